/* options.h - comet4j-node's settings: flags and `--config FILE` lines with
 * the Comet.* names of the JVM side, checked into a c4j_config_t. */
#ifndef NODE_OPTIONS_H
#define NODE_OPTIONS_H

#include "c4j.h"

enum { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

typedef struct {
  c4j_config_t cfg;  /* strings point into the option table's storage */
  int log_level;
  int hub_remote;    /* Comet.Hub is redis://...: other nodes exist */
  char *presence;    /* Comet.PresenceChannels: a comma list, or NULL
                        (a copy: the caller frees it) */
} node_options_t;

/* Parses argv (and the --config file it names).  Returns 0, 1 after
 * --help (usage printed), or 2 after printing "Comet.X: message" to
 * stderr for a bad value, an unknown flag or key, or a missing secret. */
int node_options_parse(int argc, char **argv, node_options_t *out);
void node_options_free(void);
/* The Comet.* setting a core configuration error names ("secret: ..."
 * names Comet.Secret), or NULL. */
const char *node_options_key_of(const char *core_error);

#endif
