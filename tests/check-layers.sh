#!/usr/bin/env bash
# The orchestrator's shape, checked: dependencies point one way (spec ->
# plan -> run; store knows SQL and nothing else; sched and api on top),
# SQL text lives only in orchestrator/store/, and no JSON object is built
# by pasting strings together. Fails naming each offending line.
set -euo pipefail
cd "$1/orchestrator"
status=0

# folder: the folders its includes must not name
declare -A forbidden=(
  [spec]='plan|run|store|sched|api|commands'
  [plan]='run|store|sched|api|commands'
  [run]='store|sched|api|commands'
  [store]='spec|plan|run|sched|api|commands'
  [sched]='api|commands'
  [api]='commands'
)
for folder in "${!forbidden[@]}"; do
  if hits=$(grep -nE "#include \"(${forbidden[$folder]})/" -r "$folder" --include='*.cpp' --include='*.h'); then
    echo "$folder/ must not depend on ${forbidden[$folder]//|/, }:"
    echo "$hits" | sed 's/^/  /'
    status=1
  fi
done

# An SQL statement inside a string literal, outside store/.
sql='"[^"]*\b(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM|RETURNING|FOR UPDATE|pg_notify)\b'
if hits=$(grep -nE "$sql" -r . --include='*.cpp' --include='*.h' --exclude-dir=store); then
  echo "SQL outside orchestrator/store/ (add a typed query there):"
  echo "$hits" | sed 's/^/  /'
  status=1
fi

# A JSON member pasted into text: "{\"name\": " + ..., or printf("{\"name\": %s").
if hits=$(grep -nE '\\"[a-z_]+\\": ?' -r . --include='*.cpp' --include='*.h' --exclude-dir=store |
          grep -E '\+|%[0-9.]*[sdfgz]'); then
  echo "JSON built by concatenation (use JsonWriter or json-glib):"
  echo "$hits" | sed 's/^/  /'
  status=1
fi

[ $status -eq 0 ] && echo "layers, SQL and JSON: as they should be"
exit $status
