#!/usr/bin/env bash
# The built-in demo: a throwaway monorepo shaped like the seed's (argo/,
# alpine-backend/, alpine-frontend/, packages/ui), the default rules, the
# hook installed, and one commit of each kind, printed as a user sees them;
# then a bare "server" repository with the server hooks, refusing a push
# whose commit skipped the client hook, and taking a clean one.
set -u
BUILD=${1:?usage: demo/run.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-demo.XXXXXX")
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com
export GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com
unset GITGATE_SKIP

bold() { if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
step() { printf '\n'; bold "== $*"; }
show() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; return "${PIPESTATUS[0]}"; }
verdict() { if [ "$1" = 0 ]; then echo "  -> accepted"; else echo "  -> refused (exit $1)"; fi; }
attempt() { # attempt MESSAGE: commit what is staged, print the outcome, undo the staging
	show git commit -q -m "$1"
	local rc=$?
	verdict $rc
	if [ $rc != 0 ]; then git reset -q --hard; fi
}

cd "$DEMO"
git init -q -b main monorepo && cd monorepo
cp "$SOURCE/rules.ini" rules.ini
mkdir -p argo alpine-backend alpine-frontend packages/ui
echo 'def trade(): return "ok"' >argo/engine.py
echo 'export const health = () => "ok";' >alpine-backend/server.js
echo 'export const App = () => null;' >alpine-frontend/App.tsx
echo '{"name": "@demo/ui", "version": "1.0.0"}' >packages/ui/package.json
echo 'export const Button = () => null;' >packages/ui/Button.js
git add -A && git commit -q -m "import the monorepo"
ln -s "$BUILD/pre-commit" .git/hooks/pre-commit
bold "gitgate demo in $DEMO/monorepo (the pre-commit hook is installed)"

step "1. argo/ and alpine-*/ in one commit (project isolation)"
echo 'def stop(): return "stopped"' >>argo/engine.py
echo 'export const ready = () => true;' >>alpine-backend/server.js
git add -A
attempt "touch argo and alpine together"

step "2. debug code in an added line"
printf 'export const App = () => {\n  console.log("rendering");\n  return null;\n};\n' >alpine-frontend/App.tsx
git add -A
attempt "frontend with console.log"

step "3. a local-only secret file"
echo 'ALPACA_API_KEY=not-a-real-key' >argo/.env.local
git add -A
attempt "add argo/.env.local"

step "4. shared package changed without a version bump (a warning, not a block)"
echo 'export const Link = () => null;' >>packages/ui/Button.js
git add -A
attempt "ui: add Link"

step "5. a clean change to the coupled alpine projects"
echo 'export const version = () => "2";' >>alpine-backend/server.js
echo 'export const Footer = () => null;' >>alpine-frontend/App.tsx
git add -A
attempt "alpine: version endpoint and footer"

step "6. the same verdict as JSON, for CI"
echo 'debugger;' >>alpine-backend/server.js
git add -A
show "$BUILD/gitgate" check --staged --format json
verdict $?
git reset -q --hard

step "7. the server: a commit that skipped the client hook is refused at push time"
git init -q --bare ../server.git
mkdir ../server.git/gitgate
# The checks only: the deploy sections would have this demo's pushes deploy
# to the seed's roots under /root (a deploy demo on loopback is to come).
sed '/^; ---- Deploy time/,$d' "$SOURCE/rules.ini" >../server.git/gitgate/rules.ini
ln -s "$BUILD/pre-receive" ../server.git/hooks/pre-receive
ln -s "$BUILD/post-receive" ../server.git/hooks/post-receive
git remote add origin ../server.git
git push -q origin main
echo 'def buy(): breakpoint()' >>argo/engine.py
git commit -q --no-verify -am "argo: buy (client hook skipped)"
show git push origin main
verdict $?
git reset -q --hard HEAD^

step "8. a clean push is accepted and recorded"
echo 'def sell(): return "sold"' >>argo/engine.py
git commit -q -am "argo: sell"
show git push origin main
verdict $?
printf '  pushes.jsonl: '
tail -n 1 ../server.git/gitgate/pushes.jsonl

step "history"
git log --oneline | sed 's/^/  /'
printf '\nThe demo repositories stay at %s; remove them when done.\n' "$DEMO"
