defmodule Tesla do
end
