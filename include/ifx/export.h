/* ifx — IFX_EXTERN, the mark of the library's API.
 *
 * libifx is built with hidden visibility: a function or variable is exported from libifx.so only
 * when its declaration in a public header starts with IFX_EXTERN. Everything else (the functions
 * shared between the library's own files) stays inside the library.
 */
#ifndef IFX_EXPORT_H
#define IFX_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define IFX_EXTERN __attribute__((visibility("default")))
#else
#define IFX_EXTERN
#endif

#endif
