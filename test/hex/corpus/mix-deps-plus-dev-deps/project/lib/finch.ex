defmodule Finch do
end
