#!/bin/sh
# The official image builds Redis with protected mode off, so that other containers may connect without a
# password; Debian's build keeps it on, so the stand-in turns it off on the command line instead.
if [ "$1" = redis-server ]; then
  shift
  exec redis-server "$@" --protected-mode no
fi
exec "$@"
