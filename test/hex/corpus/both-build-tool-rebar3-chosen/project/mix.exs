defmodule Ranch.MixProject do
  use Mix.Project
  # Only for Mix projects that depend on ranch from git; releases are built with rebar3.
  def project, do: [app: :ranch, version: "2.1.0", language: :erlang, deps: []]
end
