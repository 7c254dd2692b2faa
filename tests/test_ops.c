/* ops: systemd's notification protocol received on a datagram socket this
 * test creates (path and abstract names, the watchdog's environment), and
 * the reload's view of a configuration file (flattened keys, which changed). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "kpistream/plugin.h"
#include "ops.h"

/* A datagram socket bound at name ("/path" or "@abstract"). */
static int listener(const char *name) {
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un a = {0};
  a.sun_family = AF_UNIX;
  size_t len = strlen(name);
  memcpy(a.sun_path, name, len);
  if (name[0] == '@')
    a.sun_path[0] = '\0';
  socklen_t al = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/'));
  assert_int_equal(bind(fd, (struct sockaddr *)&a, al), 0);
  return fd;
}

static void recv_is(int fd, const char *want) {
  char buf[256];
  struct pollfd p = {fd, POLLIN, 0};
  assert_int_equal(poll(&p, 1, 2000), 1);
  ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
  assert_true(n >= 0);
  buf[n] = '\0';
  assert_string_equal(buf, want);
}

static void notify_path_socket(void **state) {
  (void)state;
  char dir[] = "/tmp/ks_notify_XXXXXX", path[128], err[256];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/notify", dir);
  int fd = listener(path);
  ks_notify n;
  assert_int_equal(ks_notify_open(&n, path, "30000000", NULL, err, sizeof err), 0);
  assert_int_equal(n.watchdog_usec, 30000000);
  assert_int_equal(ks_notify_send(&n, "READY=1\nSTATUS=processing"), 0);
  assert_int_equal(ks_notify_send(&n, "WATCHDOG=1"), 0);
  assert_int_equal(ks_notify_send(&n, "STOPPING=1"), 0);
  recv_is(fd, "READY=1\nSTATUS=processing");
  recv_is(fd, "WATCHDOG=1");
  recv_is(fd, "STOPPING=1");
  ks_notify_close(&n);
  close(fd);
  unlink(path);
  rmdir(dir);
}

static void notify_abstract_socket_and_watchdog_pid(void **state) {
  (void)state;
  char name[64], err[256], pid[32];
  snprintf(name, sizeof name, "@ks-test-notify-%d", (int)getpid());
  int fd = listener(name);
  ks_notify n;
  /* WATCHDOG_PID of another process: the watchdog is not ours */
  assert_int_equal(ks_notify_open(&n, name, "2000000", "1", err, sizeof err), 0);
  assert_int_equal(n.watchdog_usec, 0);
  assert_int_equal(ks_notify_send(&n, "READY=1"), 0);
  recv_is(fd, "READY=1");
  ks_notify_close(&n);
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  assert_int_equal(ks_notify_open(&n, name, "2000000", pid, err, sizeof err), 0);
  assert_int_equal(n.watchdog_usec, 2000000);
  ks_notify_close(&n);
  close(fd);
}

static void notify_off_and_refused(void **state) {
  (void)state;
  char err[256];
  ks_notify n;
  assert_int_equal(ks_notify_open(&n, NULL, NULL, NULL, err, sizeof err), 0);
  assert_int_equal(n.fd, -1);
  assert_int_equal(ks_notify_send(&n, "READY=1"), 0); /* not under systemd: nothing */
  ks_notify_close(&n);
  assert_int_equal(ks_notify_open(&n, "relative/path", NULL, NULL, err, sizeof err), KS_EINVAL);
  assert_non_null(strstr(err, "NOTIFY_SOCKET 'relative/path'"));
  assert_int_equal(ks_notify_open(&n, "/tmp/x", "soon", NULL, err, sizeof err), KS_EINVAL);
  assert_non_null(strstr(err, "WATCHDOG_USEC 'soon'"));
  /* a socket nobody listens on: the send fails with the errno, no crash */
  assert_int_equal(ks_notify_open(&n, "/nonexistent/notify", NULL, NULL, err, sizeof err), 0);
  assert_int_equal(ks_notify_send(&n, "READY=1"), -ENOENT);
  ks_notify_close(&n);
}

static void flattened_keys(void **state) {
  (void)state;
  char err[256];
  const char *y = "kafka:\n  bootstrap.servers: a:9092\n  consumer: {group.id: g}\n"
                  "input: {topics: [events.voice, events.chat]}\n"
                  "plugins:\n  - name: operations\n    options: {x: 1}\n"
                  "log_level: info\nempty: []\n";
  char *f = ks_ops_flatten_yaml(y, strlen(y), err, sizeof err);
  assert_non_null(f);
  assert_string_equal(f, "kafka.bootstrap.servers=a:9092\n"
                         "kafka.consumer.group.id=g\n"
                         "input.topics[0]=events.voice\n"
                         "input.topics[1]=events.chat\n"
                         "plugins[0].name=operations\n"
                         "plugins[0].options.x=1\n"
                         "log_level=info\n"
                         "empty=[]\n");
  free(f);
  assert_null(ks_ops_flatten_yaml("a: [", 4, err, sizeof err));
  /* libyaml's mark: the end of the input, where the node was expected */
  assert_string_equal(err, "YAML error at line 2: did not find expected node content");
}

static void changed_keys(void **state) {
  (void)state;
  const char *a = "log_level=info\nintervals.length=15m\ninput.topics[0]=x\nkafka.a=1\n";
  const char *b = "log_level=debug\nintervals.length=15m\ninput.topics[0]=y\nnew.key=2\n";
  char out[256];
  assert_int_equal(ks_ops_changed_keys(a, b, out, sizeof out), 4);
  assert_string_equal(out, "log_level\ninput.topics[0]\nkafka.a\nnew.key\n");
  assert_int_equal(ks_ops_changed_keys(a, a, out, sizeof out), 0);
  assert_string_equal(out, "");
  /* a key that is a prefix of another is not confused with it */
  assert_int_equal(ks_ops_changed_keys("ab=1\na=2\n", "a=2\nab=1\n", out, sizeof out), 0);
}

static void default_plugin_dir(void **state) {
  (void)state;
  /* the test binary has no ../lib/kpistream/plugins next to it: the
   * configured install path */
  char *d = ks_ops_default_plugin_dir();
  assert_non_null(d);
  assert_string_equal(d, KS_PLUGIN_DIR_INSTALL);
  free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(notify_path_socket),
      cmocka_unit_test(notify_abstract_socket_and_watchdog_pid),
      cmocka_unit_test(notify_off_and_refused),
      cmocka_unit_test(flattened_keys),
      cmocka_unit_test(changed_keys),
      cmocka_unit_test(default_plugin_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
