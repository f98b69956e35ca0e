#!/bin/sh
# The official image builds Redis with protected mode off; Debian's has it on, which refuses
# clients from other containers when no password is set. Turn it off unless the command sets it.
set -e
if [ "$1" = redis-server ]; then
  case " $* " in
    *' --protected-mode '*) ;;
    *) set -- "$@" --protected-mode no ;;
  esac
fi
exec "$@"
