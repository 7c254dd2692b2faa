#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ks_cli_init(ks_cli *c, const char *prog, int argc, char **argv, const char *shortopts,
                 const struct option *longopts) {
  c->prog = prog;
  c->argc = argc;
  c->argv = argv;
  c->longopts = longopts;
  c->rest = 0;
  /* '-': options and arguments in command-line order (whatever
   * POSIXLY_CORRECT says); ':': no messages of getopt's own, a missing value
   * returns ':' */
  snprintf(c->optstring, sizeof c->optstring, "-:%s", shortopts);
  optind = 0; /* getopt's full reinitialisation */
  opterr = 0;
}

/* The long name of the option whose val is v, or NULL. */
static const char *long_name(const ks_cli *c, int v) {
  for (const struct option *o = c->longopts; o && o->name; o++)
    if (o->flag == NULL && o->val == v)
      return o->name;
  return NULL;
}

int ks_cli_next(ks_cli *c, const char **arg) {
  *arg = NULL;
  if (c->rest) {
    if (optind >= c->argc)
      return KS_CLI_END;
    *arg = c->argv[optind++];
    return KS_CLI_ARG;
  }
  int before = optind > 0 ? optind : 1;
  int o = getopt_long(c->argc, c->argv, c->optstring, c->longopts, NULL);
  if (o == -1) { /* the end, or "--" */
    c->rest = 1;
    return ks_cli_next(c, arg);
  }
  if (o == 1) {
    *arg = optarg;
    return KS_CLI_ARG;
  }
  if (o == ':') {
    const char *name = long_name(c, optopt);
    if (name)
      fprintf(stderr, "kpistream %s: option --%s needs a value (see --help)\n", c->prog, name);
    else
      fprintf(stderr, "kpistream %s: option -%c needs a value (see --help)\n", c->prog, optopt);
    return KS_CLI_BAD;
  }
  if (o == '?') {
    /* the element getopt stopped at: it moved past it unless it stopped
     * inside a cluster of short options */
    const char *at = optind > before ? c->argv[optind - 1] : c->argv[optind];
    if (strncmp(at, "--", 2) == 0 || optopt <= 0 || optopt > 255)
      fprintf(stderr, "kpistream %s: unknown option '%s' (see --help)\n", c->prog, at);
    else
      fprintf(stderr, "kpistream %s: unknown option '-%c' (see --help)\n", c->prog, optopt);
    return KS_CLI_BAD;
  }
  *arg = optarg;
  return o;
}

int ks_cli_version(void) {
  printf("kpistream %s\n", KS_VERSION);
  return 0;
}

int ks_cli_push(const char ***arr, size_t *n, const char *s) {
  const char **grown = realloc(*arr, (*n + 1) * sizeof *grown);
  if (grown == NULL)
    return -1;
  *arr = grown;
  grown[(*n)++] = s;
  return 0;
}

int ks_cli_property(const char *prog, const char *v, const char ***props, size_t *n) {
  const char *eq = strchr(v, '=');
  if (eq == NULL || eq == v) {
    fprintf(stderr, "kpistream %s: -X '%s': expected KEY=VALUE\n", prog, v);
    return KS_EXIT_USAGE;
  }
  if (strncmp(v, "bootstrap.servers=", 18) == 0) {
    fprintf(stderr, "kpistream %s: -X bootstrap.servers: use -b or --bootstrap-file\n", prog);
    return KS_EXIT_USAGE;
  }
  return ks_cli_push(props, n, v) == 0 ? 0 : 1;
}

int ks_cli_read_bootstrap(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  if (f == NULL || size == 0) {
    if (f)
      fclose(f);
    return -1;
  }
  char *ok = fgets(buf, (int)size, f);
  fclose(f);
  if (ok == NULL)
    return -1;
  buf[strcspn(buf, "\r\n")] = '\0';
  char *s = buf;
  while (*s == ' ' || *s == '\t')
    s++;
  size_t len = strlen(s);
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
    len--;
  memmove(buf, s, len);
  buf[len] = '\0';
  return len ? 0 : -1;
}
