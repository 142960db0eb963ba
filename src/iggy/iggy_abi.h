/* The C interface of the Apache Iggy connectors runtime (../shared/spec/iggy-plugin-abi.md §2.1,
 * §3.1, §4), as the plugins export it and as the test host binds it. */
#ifndef IFX_IGGY_ABI_H
#define IFX_IGGY_ABI_H

#include <stddef.h>
#include <stdint.h>

typedef void (*iggy_log_callback)(uint8_t level, const uint8_t *target_ptr, size_t target_len,
                                  const uint8_t *message_ptr, size_t message_len);

/* sink */
int32_t iggy_sink_open(uint32_t id, const uint8_t *config_ptr, size_t config_len,
                       iggy_log_callback log_callback);
int32_t iggy_sink_consume(uint32_t id, const uint8_t *topic_meta_ptr, size_t topic_meta_len,
                          const uint8_t *messages_meta_ptr, size_t messages_meta_len,
                          const uint8_t *messages_ptr, size_t messages_len);
int32_t iggy_sink_close(uint32_t id);
const char *iggy_sink_version(void);

/* Function pointer types, for hosts that dlsym the symbols. */
typedef int32_t (*iggy_sink_open_fn)(uint32_t, const uint8_t *, size_t, iggy_log_callback);
typedef int32_t (*iggy_sink_consume_fn)(uint32_t, const uint8_t *, size_t, const uint8_t *, size_t,
                                        const uint8_t *, size_t);
typedef int32_t (*iggy_sink_close_fn)(uint32_t);
typedef const char *(*iggy_sink_version_fn)(void);

/* source */
typedef int32_t (*iggy_send_callback)(uint32_t plugin_id, uint64_t batch_id,
                                      const uint8_t *messages_ptr, size_t messages_len);

int32_t iggy_source_open(uint32_t id, const uint8_t *config_ptr, size_t config_len,
                         const uint8_t *state_ptr, size_t state_len,
                         iggy_log_callback log_callback);
int32_t iggy_source_handle_v2(uint32_t id, iggy_send_callback callback);
int32_t iggy_source_batch_result(uint32_t plugin_id, uint64_t batch_id, uint8_t result);
int32_t iggy_source_close(uint32_t id);
const char *iggy_source_version(void);

typedef int32_t (*iggy_source_open_fn)(uint32_t, const uint8_t *, size_t, const uint8_t *, size_t,
                                       iggy_log_callback);
typedef int32_t (*iggy_source_handle_v2_fn)(uint32_t, iggy_send_callback);
typedef int32_t (*iggy_source_batch_result_fn)(uint32_t, uint64_t, uint8_t);
typedef int32_t (*iggy_source_close_fn)(uint32_t);
typedef const char *(*iggy_source_version_fn)(void);

#endif
