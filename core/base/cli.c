#include "cli.h"

#include <stdio.h>
#include <string.h>

int ks_cli_arg_match(const char *prog, int argc, char **argv, int *i, const char *lng, char shrt,
                     int has_value, const char **val) {
  const char *a = argv[*i];
  const char *inline_val = NULL;
  int matched = 0;
  if (a[0] == '-' && a[1] == '-') {
    size_t n = strlen(lng);
    if (strncmp(a + 2, lng, n) == 0) {
      if (a[2 + n] == '\0')
        matched = 1;
      else if (a[2 + n] == '=' && has_value) {
        matched = 1;
        inline_val = a + 3 + n;
      }
    }
  } else if (shrt && a[0] == '-' && a[1] == shrt) {
    if (a[2] == '\0')
      matched = 1;
    else if (has_value) {
      matched = 1;
      inline_val = a + 2;
    }
  }
  if (!matched)
    return 0;
  if (!has_value)
    return 1;
  if (inline_val) {
    *val = inline_val;
    return 1;
  }
  if (*i + 1 >= argc) {
    fprintf(stderr, "kpistream %s: option --%s needs a value (see --help)\n", prog, lng);
    return -1;
  }
  *val = argv[++*i];
  return 1;
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
