/* Many cheap, idle processes for the benchmarks: run as pid 1 of a fresh PID namespace,
 * forks N children that pause(), writes "ready" to the file named, then pauses itself.
 * Killing it (pid 1 of the namespace) takes every child with it.
 *   pause_swarm N READY_FILE */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: pause_swarm N READY_FILE\n");
    return 2;
  }
  long n = strtol(argv[1], NULL, 10);
  if (n < 1 || n > 30000) {
    fprintf(stderr, "pause_swarm: N must be 1 to 30000\n");
    return 2;
  }
  for (long i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      fprintf(stderr, "pause_swarm: fork %ld of %ld: errno %d\n", i + 1, n, errno);
      return 1; /* as pid 1, returning ends the namespace and the children made so far */
    }
    if (pid == 0) {
      /* Should pid 1 be killed some other way, the parent-death signal still ends the child. */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (;;) pause();
    }
  }
  FILE *ready = fopen(argv[2], "w");
  if (!ready) return 1;
  fprintf(ready, "%ld\n", n);
  fclose(ready);
  /* Pid 1 reaps whatever exits; otherwise it only waits. */
  for (;;) {
    if (wait(NULL) < 0 && errno == ECHILD) pause();
  }
}
