defmodule Plug.Conn do
end
