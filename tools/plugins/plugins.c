/*
 * kpistream plugins — see plugins.h.
 *
 *   kpistream plugins list [--plugin-dir DIR]
 *   kpistream plugins describe NAME|PATH [--plugin-dir DIR]
 *
 * NAME is looked up as DIR/kpi_NAME.so (as `run` does); a PATH (with a '/')
 * is opened as it is. DIR defaults to the installed plugin directory.
 *
 * Ownership: every probed plugin is closed before the next is opened; the
 * directory listing (uv_fs_scandir) is freed by uv_fs_req_cleanup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli.h"
#include "engine.h"
#include "loader.h"
#include "plugins.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: kpistream plugins list [--plugin-dir DIR]\n"
          "       kpistream plugins describe NAME|PATH [--plugin-dir DIR]\n"
          "\n"
          "  list       every plugin of DIR (kpi_*.so): name, version, ABI, description\n"
          "  describe   one plugin: its options (name, type, default, description,\n"
          "             choices) as its option map declares them\n"
          "\n"
          "  --plugin-dir DIR   where plugins are (default %s)\n",
          KS_PLUGIN_DIR_INSTALL);
}

static const char *yes(int b) {
  return b ? "yes" : "no";
}

/* One line for `list`. Returns 0, or the probe's error (printed). */
static int list_one(const char *path) {
  char err[1024];
  ks_plugin_ctx *p = NULL;
  int rc = ks_plugin_probe(path, &p, err, sizeof err);
  if (rc != 0) {
    printf("%-16s %-10s %-5s refused: %s\n", "-", "-", "-", err);
    return rc;
  }
  const ks_plugin_descriptor *d = ks_plugin_probe_descriptor(p);
  char abi[16];
  snprintf(abi, sizeof abi, "%u.%u", d->abi_major, d->abi_minor);
  printf("%-16s %-10s %-5s %s%s(%s)\n", d->name, d->version ? d->version : "?", abi,
         d->description ? d->description : "", d->description ? " " : "", path);
  ks_plugin_probe_close(p);
  return 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_list(const char *dir) {
  uv_fs_t req;
  int n = uv_fs_scandir(NULL, &req, dir, 0, NULL);
  if (n < 0) {
    fprintf(stderr, "kpistream plugins: %s: cannot read: %s\n", dir, uv_strerror(n));
    uv_fs_req_cleanup(&req);
    return 1;
  }
  char **names = calloc((size_t)n + 1, sizeof *names);
  size_t k = 0;
  uv_dirent_t ent;
  while (names && uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    size_t len = strlen(ent.name);
    if (strncmp(ent.name, "kpi_", 4) == 0 && len > 7 && strcmp(ent.name + len - 3, ".so") == 0)
      names[k++] = strdup(ent.name);
  }
  uv_fs_req_cleanup(&req);
  if (names == NULL) {
    fprintf(stderr, "kpistream plugins: out of memory\n");
    return 1;
  }
  qsort(names, k, sizeof *names, cmp_names);
  printf("%-16s %-10s %-5s %s\n", "NAME", "VERSION", "ABI", "DESCRIPTION (FILE)");
  int status = 0;
  for (size_t i = 0; i < k; i++) {
    char path[4096];
    if (names[i] == NULL)
      status = 1;
    else {
      snprintf(path, sizeof path, "%s/%s", dir, names[i]);
      if (list_one(path) != 0)
        status = 1;
    }
    free(names[i]);
  }
  free(names);
  if (k == 0)
    printf("(no kpi_*.so in %s)\n", dir);
  return status;
}

static int cmd_describe(const char *dir, const char *name) {
  char path[4096];
  if (strchr(name, '/'))
    snprintf(path, sizeof path, "%s", name);
  else
    snprintf(path, sizeof path, "%s/kpi_%s.so", dir, name);
  char err[1024];
  ks_plugin_ctx *p = NULL;
  if (ks_plugin_probe(path, &p, err, sizeof err) != 0) {
    fprintf(stderr, "kpistream plugins: %s\n", err);
    return 1;
  }
  const ks_plugin_descriptor *d = ks_plugin_probe_descriptor(p);
  printf("%s %s (ABI %u.%u) %s\n", d->name, d->version ? d->version : "?", d->abi_major,
         d->abi_minor, path);
  if (d->description)
    printf("  %s\n", d->description);
  const ks_option *map = ks_plugin_probe_options(p);
  int restatable = KS_DESC_HAS(d, 1, flags) && (d->flags & KS_PLUGIN_F_RESTATABLE);
  printf("  restatable: %s; reads other plugins' results: %s\n", yes(restatable),
         yes(KS_DESC_HAS(d, 1, on_result) && d->on_result != NULL));
  if (map) {
    printf("\noptions:\n");
    printf("  %-32s %-9s %-14s %s\n", "NAME", "TYPE", "DEFAULT", "DESCRIPTION");
    for (const ks_option *o = map; o->name; o++) {
      printf("  %-32s %-9s %-14s %s\n", o->name, ks_option_type_name(o->type),
             o->def ? o->def : "-", o->description ? o->description : "");
      if (o->type == KS_OPT_CHOICE) {
        printf("  %-32s %-9s %-14s choices:", "", "", "");
        for (const char *const *c = o->choices; *c; c++)
          printf("%s %s", c == o->choices ? "" : ",", *c);
        printf("\n");
      }
    }
  } else if (d->options) {
    printf("\noptions (no option map: names only, checked by the plugin):\n");
    for (const char *const *o = d->options; *o; o++)
      printf("  %s\n", *o);
  } else
    printf("\noptions: not declared (the host does not check them)\n");
  ks_plugin_probe_close(p);
  return 0;
}

int ks_cmd_plugins(int argc, char **argv) {
  enum { O_PLUGIN_DIR = 256 };
  static const struct option longopts[] = {{"plugin-dir", required_argument, NULL, O_PLUGIN_DIR},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  const char *dir = KS_PLUGIN_DIR_INSTALL, *what = NULL, *name = NULL;
  ks_cli cli;
  ks_cli_init(&cli, "plugins", argc, argv, "h", longopts);
  const char *v;
  int c;
  while ((c = ks_cli_next(&cli, &v)) != KS_CLI_END) {
    switch (c) {
    case O_PLUGIN_DIR:
      dir = v;
      break;
    case 'h':
      usage(stdout);
      return 0;
    case KS_CLI_ARG:
      if (what == NULL)
        what = v;
      else if (name == NULL)
        name = v;
      else {
        fprintf(stderr, "kpistream plugins: unexpected argument '%s'\n", v);
        return KS_EXIT_USAGE;
      }
      break;
    default:
      usage(stderr);
      return KS_EXIT_USAGE;
    }
  }
  if (what && strcmp(what, "list") == 0 && name == NULL)
    return cmd_list(dir);
  if (what && strcmp(what, "describe") == 0 && name != NULL)
    return cmd_describe(dir, name);
  usage(stderr);
  return KS_EXIT_USAGE;
}
