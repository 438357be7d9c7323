defmodule Earmark.MixProject do
  use Mix.Project

  @version File.read!("VERSION") |> String.trim()

  def project do
    [app: :earmark_like, version: @version, deps: []]
  end
end
