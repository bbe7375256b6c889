/*
 * version.c — what this library is, for bindings to check at load: its version string, and the size
 * of every struct of kvmfilter.h and the number of error kinds, so that a binding built for another
 * layout refuses to run instead of reading the wrong fields.
 */
#include "core.h"

const char *kvmf_version(void)
{
    return "kvmfilter " KVMF_VERSION " (api 1)";
}

uint64_t kvmf_layout_size(int which)
{
    switch (which) {
    case KVMF_LAYOUT_CONFIG: return sizeof(struct kvmf_config);
    case KVMF_LAYOUT_RESPONSE: return sizeof(struct kvmf_response);
    case KVMF_LAYOUT_PROGRAM_STATS: return sizeof(struct kvmf_program_stats);
    case KVMF_LAYOUT_INSTANCE_STATS: return sizeof(struct kvmf_instance_stats);
    case KVMF_LAYOUT_ERROR_KINDS: return KVMF_ERROR_KIND_COUNT;
    case KVMF_LAYOUT_SOCKET_RESULT: return sizeof(struct kvmf_socket_result);
    default: return 0;
    }
}
