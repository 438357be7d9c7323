defmodule Jason.Encode do
end
