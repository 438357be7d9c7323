# erlang.mk
