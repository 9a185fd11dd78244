#!/bin/bash
# Halide's lesson 15 usage script, with the Python generators of
# lesson_15_generators.py standing in for the lesson_15_generate binary.
# Run from an empty directory: bash lesson_15_generators_usage.sh
set -e
GEN="${PYTHON:-python} $(dirname "$0")/lesson_15_generators.py"

check_file_exists() { [ -f "$1" ] || { echo "$1 not found"; exit 1; }; }
check_symbol() { nm "$1" | grep -q "$2" || { echo "$2 not found in $1"; exit 1; }; }
check_runtime() { nm "$1" | grep -q "[TSW] _\?halide_" || { echo "Halide runtime not found in $1"; exit 1; }; }
check_no_runtime() { if nm "$1" | grep -q "[TSW] _\?halide_"; then echo "Halide runtime found in $1"; exit 1; fi; }

$GEN -g my_first_generator -o . target=host
check_file_exists my_first_generator.a
check_file_exists my_first_generator.h
check_symbol my_first_generator.a my_first_generator

$GEN -g my_first_generator -f my_first_generator_win32 -o . target=x86-32-windows
check_file_exists my_first_generator_win32.lib
check_file_exists my_first_generator_win32.h

$GEN -g my_first_generator -e stmt -o . target=host
check_file_exists my_first_generator.stmt

$GEN -g my_second_generator -f my_second_generator_1 -o . \
    target=host parallel=false scale=3.0 rotation=ccw output.type=uint16
$GEN -g my_second_generator -f my_second_generator_2 -o . \
    target=host scale=9.0 rotation=ccw output.type=float32
$GEN -g my_second_generator -f my_second_generator_3 -o . \
    target=host parallel=false output.type=float64
for i in 1 2 3; do
    check_file_exists my_second_generator_$i.a
    check_file_exists my_second_generator_$i.h
    check_symbol my_second_generator_$i.a my_second_generator_$i
done
echo "The halide runtime:"
nm my_second_generator_1.a | grep "[SWT] _\?halide_"

for v in basic:x86-64-linux-no_runtime sse41:x86-64-linux-sse41-no_runtime avx:x86-64-linux-avx-no_runtime; do
    $GEN -g my_first_generator -f my_first_generator_${v%%:*} -e object,c_header -o . target=${v#*:}
    check_no_runtime my_first_generator_${v%%:*}.o
    check_symbol my_first_generator_${v%%:*}.o my_first_generator_${v%%:*}
done
$GEN -r halide_runtime_x86 -e object,c_header -o . target=x86-64-linux
check_runtime halide_runtime_x86.o
ar q my_first_generator_multi.a my_first_generator_basic.o my_first_generator_sse41.o \
    my_first_generator_avx.o halide_runtime_x86.o
check_runtime my_first_generator_multi.a
check_symbol my_first_generator_multi.a my_first_generator_basic
check_symbol my_first_generator_multi.a my_first_generator_sse41
check_symbol my_first_generator_multi.a my_first_generator_avx
echo "Success!"
