# kept_window STORES DAYS TICKETS: the path of a heartland-ingest inbox of kept batch events (scripts/lib/kept-days.py),
# shared by the benchmarks of the mapping check and the rules backtest in var/kept-windows/; kept days are dated back
# from today, so a file from another day is written again.
kept_window() {
  local folder=$PWD/var/kept-windows
  mkdir -p "$folder"
  local inbox=$folder/inbox-$1-$2-$3.sqlite
  if [ ! -s "$inbox" ] || [ "$(date -r "$inbox" +%F)" != "$(date +%F)" ]; then
    rm -f "$inbox"
    python3 scripts/lib/kept-days.py "$inbox" "$1" "$2" "$3" >&2
  fi
  echo "$inbox"
}
