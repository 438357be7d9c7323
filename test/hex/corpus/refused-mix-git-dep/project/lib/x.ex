defmodule X do
end
