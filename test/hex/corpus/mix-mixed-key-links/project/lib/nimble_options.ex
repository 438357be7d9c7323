defmodule NimbleOptions do
end
