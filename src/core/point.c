/* ifx — JSON point to line protocol (see include/ifx/point.h). */
#include "ifx/point.h"

#include <string.h>

#include "core/codec.h"

/* Decodes string value s into scratch after its first `keep` bytes; on success *out points at the
 * decoded text, *outlen its length. */
static ifx_rc decode_into(ifx_buf *scratch, size_t keep, const ifx_json_val *s, const char **out,
                          size_t *outlen, ifx_err *err)
{
    ifx_rc rc;
    ifx_buf_truncate(scratch, keep);
    if ((rc = ifxi_json_string_decode(s, scratch, err)))
        return rc;
    *out = scratch->data ? scratch->data + keep : "";
    *outlen = scratch->len - keep;
    return IFX_OK;
}

static ifx_rc add_tags(ifx_lp *lp, const ifx_json_val *tags, ifx_buf *scratch, ifx_err *err)
{
    ifx_json_iter it;
    ifx_json_val k, v;
    const char *key, *val;
    size_t klen, vlen;
    ifx_rc rc;

    if (tags->type != IFX_JSON_OBJECT)
        return ifx_err_set(err, IFX_E_INVALID, "\"tags\" must be an object, got %s",
                           ifxi_json_type_name(tags->type));
    ifxi_json_iter_init(&it, tags);
    while (ifxi_json_object_next(&it, &k, &v)) {
        if ((rc = decode_into(scratch, 0, &k, &key, &klen, err)))
            return rc;
        switch (v.type) {
        case IFX_JSON_NULL:
            continue;
        case IFX_JSON_STRING:
            /* The key stays at the start of scratch; the value goes after it. */
            if ((rc = decode_into(scratch, klen, &v, &val, &vlen, err)))
                return rc;
            key = scratch->data;
            break;
        case IFX_JSON_NUMBER:
        case IFX_JSON_TRUE:
        case IFX_JSON_FALSE:
            val = v.p;
            vlen = v.len;
            break;
        default:
            return ifx_err_set(err, IFX_E_INVALID, "tag \"%.*s\" must be a string, got %s",
                               (int)(klen > 64 ? 64 : klen), key, ifxi_json_type_name(v.type));
        }
        if ((rc = ifx_lp_add_tag(lp, key, klen, val, vlen, err)))
            return rc;
    }
    return IFX_OK;
}

/* A typed field {"int": n}, {"uint": n} or {"float": n}. */
static ifx_rc add_typed(ifx_lp *lp, const char *key, size_t klen, const ifx_json_val *obj,
                        ifx_err *err)
{
    ifx_json_iter it;
    ifx_json_val tk, tv;
    int count = 0;
    ifx_rc rc;

    ifxi_json_iter_init(&it, obj);
    while (ifxi_json_object_next(&it, &tk, &tv)) {
        if (++count > 1)
            break;
    }
    if (count != 1)
        goto bad;
    ifxi_json_iter_init(&it, obj);
    ifxi_json_object_next(&it, &tk, &tv);
    if (ifxi_json_string_eq(&tk, "int")) {
        int64_t i;
        if ((rc = ifxi_json_get_i64(&tv, &i, err)))
            return ifx_err_prefix(err, "field \"%.*s\"", (int)(klen > 64 ? 64 : klen), key);
        return ifx_lp_add_int(lp, key, klen, i, err);
    }
    if (ifxi_json_string_eq(&tk, "uint")) {
        uint64_t u;
        if ((rc = ifxi_json_get_u64(&tv, &u, err)))
            return ifx_err_prefix(err, "field \"%.*s\"", (int)(klen > 64 ? 64 : klen), key);
        return ifx_lp_add_uint(lp, key, klen, u, err);
    }
    if (ifxi_json_string_eq(&tk, "float")) {
        double d;
        if ((rc = ifxi_json_get_double(&tv, &d, err)))
            return ifx_err_prefix(err, "field \"%.*s\"", (int)(klen > 64 ? 64 : klen), key);
        return ifx_lp_add_float(lp, key, klen, d, err);
    }
bad:
    return ifx_err_set(err, IFX_E_INVALID,
                       "field \"%.*s\" is an object; only {\"int\": n}, {\"uint\": n} or "
                       "{\"float\": n} are allowed",
                       (int)(klen > 64 ? 64 : klen), key);
}

static ifx_rc add_fields(ifx_lp *lp, const ifx_json_val *fields, ifx_buf *scratch, ifx_err *err)
{
    ifx_json_iter it;
    ifx_json_val k, v;
    const char *key, *val;
    size_t klen, vlen;
    ifx_rc rc;

    if (fields->type != IFX_JSON_OBJECT)
        return ifx_err_set(err, IFX_E_INVALID, "\"fields\" must be an object, got %s",
                           ifxi_json_type_name(fields->type));
    ifxi_json_iter_init(&it, fields);
    while (ifxi_json_object_next(&it, &k, &v)) {
        if ((rc = decode_into(scratch, 0, &k, &key, &klen, err)))
            return rc;
        switch (v.type) {
        case IFX_JSON_NULL:
            rc = IFX_OK; /* line protocol has no null: the field is absent */
            break;
        case IFX_JSON_STRING:
            if ((rc = decode_into(scratch, klen, &v, &val, &vlen, err)))
                return rc;
            rc = ifx_lp_add_string(lp, scratch->data, klen, val, vlen, err);
            break;
        case IFX_JSON_TRUE:
        case IFX_JSON_FALSE:
            rc = ifx_lp_add_bool(lp, key, klen, v.type == IFX_JSON_TRUE, err);
            break;
        case IFX_JSON_NUMBER:
            if (v.flags & IFX_JSON_F_FRAC) {
                double d;
                if ((rc = ifxi_json_get_double(&v, &d, err)))
                    return ifx_err_prefix(err, "field \"%.*s\"", (int)(klen > 64 ? 64 : klen), key);
                rc = ifx_lp_add_float(lp, key, klen, d, err);
            } else {
                int64_t i;
                if (ifxi_json_get_i64(&v, &i, NULL))
                    return ifx_err_set(err, IFX_E_INVALID,
                                       "field \"%.*s\": integer %.*s is outside the signed "
                                       "64-bit range; write {\"uint\": %.*s} or {\"float\": %.*s}",
                                       (int)(klen > 64 ? 64 : klen), key, (int)v.len, v.p,
                                       (int)v.len, v.p, (int)v.len, v.p);
                rc = ifx_lp_add_int(lp, key, klen, i, err);
            }
            break;
        case IFX_JSON_OBJECT:
            rc = add_typed(lp, key, klen, &v, err);
            break;
        default:
            return ifx_err_set(err, IFX_E_INVALID,
                               "field \"%.*s\" is an array; line protocol fields are scalars",
                               (int)(klen > 64 ? 64 : klen), key);
        }
        if (rc)
            return rc;
    }
    return IFX_OK;
}

ifx_rc ifx_point_encode_json(ifx_lp *lp, const char *json, size_t len, ifx_buf *scratch,
                             ifx_err *err)
{
    ifx_json_val root, k, v, meas = {0}, tags = {0}, fields = {0}, time = {0};
    ifx_json_iter it;
    const char *name;
    size_t nlen;
    int64_t t = 0;
    ifx_rc rc;

    if ((rc = ifxi_json_parse(json, len, &root, err)))
        return rc;
    if (root.type != IFX_JSON_OBJECT)
        return ifx_err_set(err, IFX_E_INVALID, "a point must be a JSON object, got %s",
                           ifxi_json_type_name(root.type));
    ifxi_json_iter_init(&it, &root);
    while (ifxi_json_object_next(&it, &k, &v)) {
        ifx_json_val *slot = ifxi_json_string_eq(&k, "measurement") ? &meas
                             : ifxi_json_string_eq(&k, "tags")      ? &tags
                             : ifxi_json_string_eq(&k, "fields")    ? &fields
                             : ifxi_json_string_eq(&k, "time")      ? &time
                                                                    : NULL;
        if (!slot)
            return ifx_err_set(err, IFX_E_INVALID,
                               "unknown key %.*s in the point; expected \"measurement\", "
                               "\"tags\", \"fields\" or \"time\"",
                               (int)(k.len > 66 ? 66 : k.len), k.p);
        if (slot->type != IFX_JSON_NONE)
            return ifx_err_set(err, IFX_E_INVALID, "key %.*s appears twice in the point",
                               (int)(k.len > 66 ? 66 : k.len), k.p);
        *slot = v;
    }
    if (meas.type != IFX_JSON_STRING)
        return ifx_err_set(err, IFX_E_INVALID,
                           meas.type == IFX_JSON_NONE ? "the point has no \"measurement\""
                                                      : "\"measurement\" must be a string");
    if (fields.type == IFX_JSON_NONE)
        return ifx_err_set(err, IFX_E_INVALID, "the point has no \"fields\"");
    if (time.type != IFX_JSON_NONE && time.type != IFX_JSON_NULL) {
        if (ifxi_json_get_i64(&time, &t, NULL))
            return ifx_err_set(err, IFX_E_INVALID,
                               "\"time\" must be an integer count of nanoseconds in the signed "
                               "64-bit range, got %.*s",
                               (int)(time.len > 40 ? 40 : time.len), time.p);
    }
    if ((rc = decode_into(scratch, 0, &meas, &name, &nlen, err)))
        return rc;
    if ((rc = ifx_lp_begin_line(lp, name, nlen, err)))
        return rc;
    if (tags.type != IFX_JSON_NONE && tags.type != IFX_JSON_NULL &&
        (rc = add_tags(lp, &tags, scratch, err)))
        goto fail;
    if ((rc = add_fields(lp, &fields, scratch, err)))
        goto fail;
    rc = ifx_lp_end_line(lp, time.type != IFX_JSON_NONE && time.type != IFX_JSON_NULL, t, err);
    if (rc == IFX_E_FULL)
        return rc; /* the line stays open for the caller to retry */
    if (rc)
        goto fail;
    return IFX_OK;
fail:
    ifx_lp_abort_line(lp);
    return rc;
}
