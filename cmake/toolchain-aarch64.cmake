# Cross-compiles for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu:
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
# Run the results with qemu-user: qemu-aarch64 -L /usr/aarch64-linux-gnu ./prog
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)

# Libraries and headers come from the target's sysroot; programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Lets try_run, add_test and ctest run aarch64 programs when qemu-user is there.
find_program(GORO_QEMU_AARCH64 qemu-aarch64)
if(GORO_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${GORO_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu")
endif()
