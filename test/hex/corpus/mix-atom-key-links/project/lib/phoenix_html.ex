defmodule Phoenix.HTML do
end
