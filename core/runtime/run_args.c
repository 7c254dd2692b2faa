/*
 * run_args — see run_args.h.
 */
#include "run_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "ops.h"
#include "str.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: kpistream run -c CONFIG [options]\n"
          "\n"
          "Consume contact-center events from Kafka, compute KPIs with the configured\n"
          "plugins per event-time interval, publish the results to Kafka.\n"
          "\n"
          "options:\n"
          "  -c, --config FILE            YAML configuration (see docs/configuration.md)\n"
          "  -b, --bootstrap-servers LIST override kafka bootstrap.servers\n"
          "      --bootstrap-file FILE    read bootstrap.servers from FILE (kpistream broker)\n"
          "  -X, --property KEY=VALUE     any librdkafka property (repeatable)\n"
          "  -g, --group ID               consumer group id (default kpistream)\n"
          "      --plugin-dir DIR         where plugins are looked up\n"
          "      --until-eof              stop when every assigned partition is at its end,\n"
          "                               closing all open intervals (backfills, tests)\n"
          "      --check-config           make every check run makes before connecting (config,\n"
          "                               plugins and their options, Kafka properties), exit\n"
          "      --log-level LEVEL        error, warn, info, debug\n"
          "  -h, --help                   this help\n"
          "  -V, --version                print the version\n"
          "\n"
          "Exit status: 0 on a clean stop, 1 on a runtime error, 2 on a usage or\n"
          "configuration error.\n");
}

int ks_run_args_parse(ks_run_args *a, int argc, char **argv) {
  static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                           {"bootstrap-servers", required_argument, NULL, 'b'},
                                           {"bootstrap-file", required_argument, NULL, 'B'},
                                           {"property", required_argument, NULL, 'X'},
                                           {"group", required_argument, NULL, 'g'},
                                           {"plugin-dir", required_argument, NULL, 'P'},
                                           {"until-eof", no_argument, NULL, 'E'},
                                           {"check-config", no_argument, NULL, 'C'},
                                           {"log-level", required_argument, NULL, 'L'},
                                           {"help", no_argument, NULL, 'h'},
                                           {"version", no_argument, NULL, 'V'},
                                           {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  int unexpected = 0;
  ks_cli cli;
  ks_cli_init(&cli, "run", argc, argv, "c:b:X:g:hV", longopts);
  const char *v;
  int c;
  while ((c = ks_cli_next(&cli, &v)) != KS_CLI_END) {
    switch (c) {
    case 'c':
      a->config_path = v;
      break;
    case 'b':
      a->bootstrap = v;
      break;
    case 'B':
      a->bootstrap_file = v;
      break;
    case 'g':
      a->group = v;
      break;
    case 'P':
      a->plugin_dir = v;
      break;
    case 'E':
      a->until_eof = 1;
      break;
    case 'C':
      a->check_only = 1;
      break;
    case 'L':
      a->log_level = v;
      break;
    case 'X':
      if (a->n_props == KS_RUN_MAX_PROPS || strchr(v, '=') == NULL) {
        fprintf(stderr, "kpistream run: -X expects KEY=VALUE (at most %d), got '%s'\n",
                KS_RUN_MAX_PROPS, v);
        return KS_EXIT_USAGE;
      }
      a->props[a->n_props++] = (char *)v; /* an argv string */
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      return ks_cli_version();
    case KS_CLI_ARG:
      unexpected = 1;
      break;
    default:
      usage(stderr);
      return KS_EXIT_USAGE;
    }
  }
  if (a->config_path == NULL || unexpected) {
    fprintf(stderr, "kpistream run: %s\n",
            a->config_path ? "unexpected argument" : "-c/--config FILE is required");
    usage(stderr);
    return KS_EXIT_USAGE;
  }
  return -1;
}

int ks_run_args_configure(const ks_run_args *a, ks_config *cfg, char *err, size_t errsz) {
  int rc = ks_config_load_file(cfg, a->config_path, err, errsz);
  if (rc != 0)
    return rc;
  if (a->log_level) {
    int lv = ks_log_level_parse(a->log_level);
    if (lv < 0) {
      snprintf(err, errsz, "--log-level: '%s' is not one of error, warn, info, debug",
               a->log_level);
      return KS_ECONFIG;
    }
    cfg->log_level = lv | (cfg->log_level & ~KS_LOG_LEVEL_MASK); /* keeps log.format */
  }
  const char *bootstrap = a->bootstrap;
  char bsbuf[512];
  if (a->bootstrap_file) {
    if (ks_cli_read_bootstrap(a->bootstrap_file, bsbuf, sizeof bsbuf) != 0) {
      snprintf(err, errsz, "--bootstrap-file %s: cannot read a bootstrap address",
               a->bootstrap_file);
      return KS_ECONFIG;
    }
    bootstrap = bsbuf;
  }
  if (bootstrap && (rc = ks_config_set_kafka(cfg, "bootstrap.servers", bootstrap)) != 0)
    return rc;
  for (size_t i = 0; i < a->n_props; i++) {
    char *eq = strchr(a->props[i], '=');
    *eq = '\0';
    rc = ks_config_set_kafka(cfg, a->props[i], eq + 1);
    *eq = '=';
    if (rc != 0)
      return rc;
  }
  if (a->group && (rc = ks_config_set_consumer(cfg, "group.id", a->group)) != 0)
    return rc;
  if (a->plugin_dir) {
    free(cfg->plugin_dir);
    cfg->plugin_dir = ks_strdup(a->plugin_dir);
  }
  if (cfg->plugin_dir == NULL)
    cfg->plugin_dir = ks_ops_default_plugin_dir(); /* i14: relative to the binary */
  return 0;
}
