defmodule AcmeBilling do
end
