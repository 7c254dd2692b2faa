/*
 * str — string helpers shared by every layer.
 */
#ifndef KS_STR_H
#define KS_STR_H

/* A malloc'd copy of s (the caller frees it), or NULL when s is NULL or out
 * of memory. */
char *ks_strdup(const char *s);

#endif
