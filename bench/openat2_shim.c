/* LD_PRELOAD for bench/run.sh regress only: valgrind 3.19 (Debian 12) does not know openat2
 * (syscall 437) and fails it with ENOSYS, so hostprint's root-confined reads would all fail under
 * callgrind. This turns openat2 into openat with the same flags. The fixture root holds no link
 * that leaves it, so the lookup lands on the same files; the kernel's part of the lookup is not
 * counted by callgrind either way. Never use it outside the benchmark.
 *   cc -shared -fPIC -o openat2_shim.so openat2_shim.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>

long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (int i = 0; i < 6; ++i) a[i] = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_openat2) {
    const struct open_how *how = (const struct open_how *)a[2];
    return openat((int)a[0], (const char *)a[1], (int)how->flags, (mode_t)how->mode);
  }
  static long (*real)(long, ...);
  if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
