/*
 * watch_screen — `kpistream watch` on a terminal: the latest closed interval
 * of each tenant and family, rendered as one frame that fits the terminal,
 * redrawn in place (like `top`). Pure: no Kafka, no loop, no terminal I/O;
 * frames are built in memory for a given width and height so they can be
 * unit-tested (tests/test_watch_screen.c).
 *
 *   kpistream watch · latest closed interval per tenant and family
 *
 *   acme · 2026-11-23 10:00–10:15 UTC
 *   ── operations
 *   channel  queue    offered  answered  abandoned  aband%  ASA ...
 *   ...
 *   ── alerts (last 2 of 2)
 *   ALERT fired   acme voice/support service_level 72.0% < 80.0%  10:15–10:30
 *
 * Model: one entry per (tenant, family) holding the results of its latest
 * interval; results of an older interval than the entry's are dropped, of
 * the same interval added (late results join the table), of a newer one
 * replace it. Rollups (day/week/month) are not shown. Alerts: the last
 * KS_WATCH_SCREEN_ALERTS lines, at the bottom of the frame.
 * Frame: tenants A–Z; per tenant its intervals newest first, each with its
 * heading and its families' tables (ks_watch_group_render with family
 * titles and `width`: each table drops its lowest-priority columns, the last
 * of the family's default metrics first, until it fits). Every line is cut
 * to the width; with a height, the tables are cut to leave room for the
 * alerts, with a "… N more lines" line.
 */
#ifndef KS_CMD_WATCH_SCREEN_H
#define KS_CMD_WATCH_SCREEN_H

#include <stddef.h>
#include <stdint.h>

#include "watch_family.h"

#define KS_WATCH_SCREEN_ALERTS 5 /* alert lines kept at the bottom of the frame */

typedef struct ks_watch_screen_entry {
  char *tenant; /* owned */
  char *family; /* owned */
  int64_t start_ms, end_ms;
  Kpistream__V1__MetricResult **results; /* owned, each freed with ..._free_unpacked */
  size_t n, cap;
} ks_watch_screen_entry;

typedef struct ks_watch_screen {
  ks_watch_group_opts opts;       /* borrowed lists (metrics); width, titles set per frame */
  ks_watch_screen_entry *entries; /* owned */
  size_t n_entries, cap_entries;
  char *alerts[KS_WATCH_SCREEN_ALERTS]; /* owned ring of formatted alert lines (no newline) */
  uint64_t n_alerts;                    /* alerts seen; the ring holds the last ones */
} ks_watch_screen;

/* opts: metrics, all_metrics, show_agents (borrowed for the screen's life). */
void ks_watch_screen_init(ks_watch_screen *s, const ks_watch_group_opts *opts);
void ks_watch_screen_free(ks_watch_screen *s);

/* Takes ownership of r (a decoded, non-alert result): kept or freed.
 * Returns 0, or -1 when out of memory (r freed). */
int ks_watch_screen_add(ks_watch_screen *s, Kpistream__V1__MetricResult *r);

/* An alert line (ks_watch_alert_print) into the ring; r borrowed.
 * Returns 0, or -1 when out of memory. */
int ks_watch_screen_alert(ks_watch_screen *s, const Kpistream__V1__MetricResult *r);

/* The frame as text, lines ending in '\n', none wider than width display
 * columns, at most height lines (0: no limit). *out is malloc'ed, the
 * caller frees it. Returns 0, or -1 when out of memory. width < 20 is
 * taken as 20. */
int ks_watch_screen_frame(const ks_watch_screen *s, int width, int height, char **out, size_t *len);

/* The bytes that draw a frame over the previous one without flicker: cursor
 * home, each line followed by erase-to-end-of-line (when narrower than the
 * width: an erase in the last column would eat its character), then erase
 * below the last line. No newline after the last line (no scrolling).
 * *out is malloc'ed. Returns 0, or -1 when out of memory. */
int ks_watch_screen_paint(const char *frame, size_t len, int width, char **out, size_t *out_len);

/* Enter / leave: the alternate screen buffer with the cursor hidden, and
 * back (cursor shown, the user's screen as it was). */
#define KS_WATCH_SCREEN_ENTER "\x1b[?1049h\x1b[?25l"
#define KS_WATCH_SCREEN_LEAVE "\x1b[?25h\x1b[?1049l"
#define KS_WATCH_SCREEN_HOME  "\x1b[H"
#define KS_WATCH_SCREEN_EOL   "\x1b[K"
#define KS_WATCH_SCREEN_EOS   "\x1b[J"

/* Terminal width: the window's columns when known (> 0), else $COLUMNS
 * when a positive number (cols_env may be NULL), else 80. */
int ks_watch_screen_width(int tty_cols, const char *cols_env);

#endif
