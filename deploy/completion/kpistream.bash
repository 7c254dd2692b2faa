# bash completion for kpistream(1). Installed as
# <datadir>/bash-completion/completions/kpistream (loaded on demand by the
# bash-completion package) and may be sourced directly.
#
# Subcommands and options are read from the binary's own --help output, so
# the completion follows the binary it completes (a new subcommand or option
# needs no edit here).

_kpistream_help_options() { # _kpistream_help_options BIN [SUBCOMMAND]
  "$@" --help 2>/dev/null | grep -oE -- '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' |
    sed -E 's/^[ ,]+//' | sort -u
}

_kpistream() {
  local cur prev bin cmd i
  COMPREPLY=()
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  bin=${COMP_WORDS[0]}
  cmd=
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -*) ;;
      *) cmd=${COMP_WORDS[i]}; break ;;
    esac
  done
  if [ -z "$cmd" ]; then
    local cmds
    cmds=$("$bin" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W '--help --version' -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$cmds" -- "$cur")
    fi
    return 0
  fi
  case $prev in
    -c | --config | --bootstrap-file | --control | --control-ack)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return 0 ;;
    --plugin-dir)
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      return 0 ;;
    --log-level)
      mapfile -t COMPREPLY < <(compgen -W 'error warn info debug' -- "$cur")
      return 0 ;;
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_kpistream_help_options "$bin" "$cmd")" -- "$cur")
  fi
  return 0
}
complete -F _kpistream kpistream
