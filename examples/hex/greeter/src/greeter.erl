-module(greeter).
-export([hello/1]).

%% Returns a greeting for Name.
hello(Name) -> <<"Hello, ", Name/binary, "!">>.
