defmodule Plug do
end
