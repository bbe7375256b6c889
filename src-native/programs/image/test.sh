#!/usr/bin/env bash
# Runs the image program tests (see programs/common/tests/test-images.sh); one word, for TEST_COMMANDS.
# Pass "sandbox" (or set KVMFILTER_TEST_MODE=sandbox) to run the cases through build/bin/kvmrun.
exec "$(dirname "$0")/../common/tests/test-images.sh" image "$@"
