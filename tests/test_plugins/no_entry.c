/* Built wrong on purpose for test_loader: no kpistream_plugin_entry symbol. */
#include "kpistream/plugin.h"

KS_PLUGIN_EXPORT int not_the_entry_point(void);
KS_PLUGIN_EXPORT int not_the_entry_point(void) {
  return 42;
}
