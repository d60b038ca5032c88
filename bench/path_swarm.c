/* Many idle processes, each running from an executable path of its own: the worst case of
 * hostprint_processes{path}. Run as pid 1 of a fresh PID namespace; makes N hard links
 * DIR/pNNNNN of PAUSE (a program that only pauses), starts one process from each, writes
 * "ready" to the file named, then reaps. Killing it (pid 1 of the namespace) ends them all.
 *   path_swarm N PAUSE DIR READY_FILE */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: path_swarm N PAUSE DIR READY_FILE\n");
    return 2;
  }
  long n = strtol(argv[1], NULL, 10);
  if (n < 1 || n > 30000) {
    fprintf(stderr, "path_swarm: N must be 1 to 30000\n");
    return 2;
  }
  char path[4096];
  for (long i = 0; i < n; ++i) {
    snprintf(path, sizeof path, "%s/p%05ld", argv[3], i);
    if (link(argv[2], path) != 0 && errno != EEXIST) {
      fprintf(stderr, "path_swarm: link %s: errno %d\n", path, errno);
      return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
      fprintf(stderr, "path_swarm: fork %ld of %ld: errno %d\n", i + 1, n, errno);
      return 1;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL); /* kept across execve of a plain binary */
      char *args[] = {path, NULL};
      execv(path, args);
      _exit(127);
    }
  }
  FILE *ready = fopen(argv[4], "w");
  if (!ready) return 1;
  fprintf(ready, "%ld\n", n);
  fclose(ready);
  for (;;) {
    if (wait(NULL) < 0 && errno == ECHILD) pause();
  }
}
