/* sb-stubgen: the project's RPC stub generator.
 *
 * protoc writes a FileDescriptorSet for one .proto (--descriptor_set_out
 * --include_imports); this program reads it and, for every service in that
 * file, writes typed client calls (sync and async) and a typed server
 * registration table into NAME.sb.h / NAME.sb.c. The stubs are thin: all
 * marshalling is done once, generically, by the runtime from protobuf-c
 * descriptors, so nobody hand-writes per-method code.
 *
 * Usage: sb-stubgen FILE.desc NAME.proto OUTDIR
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.pb-c.h"

typedef Google__Protobuf__FileDescriptorSet FileSet;
typedef Google__Protobuf__FileDescriptorProto FileProto;
typedef Google__Protobuf__ServiceDescriptorProto ServiceProto;
typedef Google__Protobuf__MethodDescriptorProto MethodProto;

/* protoc-c's name for a type: ".a.b.FooBar" -> "A__B__FooBar". */
static void c_type(const char *full, char *out, size_t n)
{
    size_t o = 0;
    int start = 1;
    for (const char *p = (*full == '.') ? full + 1 : full; *p && o + 3 < n;
         p++) {
        if (*p == '.') {
            out[o++] = '_';
            out[o++] = '_';
            start = 1;
            continue;
        }
        out[o++] = start ? (char)toupper((unsigned char)*p) : *p;
        start = 0;
    }
    out[o] = '\0';
}

/* protoc-c's descriptor symbol: ".a.b.FooBar" -> "a__b__foo_bar__descriptor" */
static void c_descriptor(const char *full, char *out, size_t n)
{
    size_t o = 0;
    int start = 1, prev_upper = 0;
    for (const char *p = (*full == '.') ? full + 1 : full; *p && o + 16 < n;
         p++) {
        if (*p == '.') {
            out[o++] = '_';
            out[o++] = '_';
            start = 1;
            prev_upper = 0;
            continue;
        }
        int up = isupper((unsigned char)*p) != 0;
        /* protoc-c breaks a word only where a capital follows a
         * non-capital: "WhoAmIReply" -> "who_am_ireply" */
        if (up && !start && !prev_upper)
            out[o++] = '_';
        out[o++] = up ? (char)tolower((unsigned char)*p) : *p;
        prev_upper = up;
        start = 0;
    }
    out[o] = '\0';
    strncat(out, "__descriptor", n - strlen(out) - 1);
}

/* Our prefix for a service: package "sb.echo", service "Echo" ->
 * "sb_echo_Echo". */
static void c_prefix(const char *pkg, const char *svc, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s", pkg, *pkg ? "_" : "", svc);
    for (char *p = out; *p; p++)
        if (*p == '.')
            *p = '_';
}

static void upper_guard(const char *name, char *out, size_t n)
{
    size_t o = 0;
    for (const char *p = name; *p && o + 1 < n; p++)
        out[o++] =
            isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    out[o] = '\0';
}

typedef struct {
    char in_t[256], out_t[256], in_d[300], out_d[300];
} method_names;

static void names_for(const MethodProto *m, method_names *mn)
{
    c_type(m->input_type, mn->in_t, sizeof mn->in_t);
    c_type(m->output_type, mn->out_t, sizeof mn->out_t);
    c_descriptor(m->input_type, mn->in_d, sizeof mn->in_d);
    c_descriptor(m->output_type, mn->out_d, sizeof mn->out_d);
}

static void emit_header_service(FILE *h, const FileProto *f,
                                const ServiceProto *s)
{
    char pre[256];
    const char *pkg = f->package ? f->package : "";
    c_prefix(pkg, s->name, pre, sizeof pre);
    fprintf(h, "\n/* ---- service %s%s%s ---- */\n\n", pkg, *pkg ? "." : "",
            s->name);
    for (size_t i = 0; i < s->n_method; i++) {
        const MethodProto *m = s->method[i];
        method_names mn;
        names_for(m, &mn);
        fprintf(h, "#define %s_%s_METHOD \"%s%s%s/%s\"\n", pre, m->name, pkg,
                *pkg ? "." : "", s->name, m->name);
        fprintf(h,
                "/* Calls %s.%s and waits. On RPC_OK *reply holds the answer\n"
                " * (free it with %s_free()); otherwise st says why. */\n",
                s->name, m->name, pre);
        fprintf(h,
                "int %s_%s(rpc_client *c, const %s *req, %s **reply,\n"
                "        const rpc_opts *opts, rpc_status *st);\n",
                pre, m->name, mn.in_t, mn.out_t);
        fprintf(h, "/* Async form: done(arg, st, reply) runs on an nng thread "
                   "and\n * owns reply (NULL unless st->code == RPC_OK). */\n");
        fprintf(h,
                "typedef void (*%s_%s_done)(void *arg, const rpc_status *st,\n"
                "        %s *reply);\n",
                pre, m->name, mn.out_t);
        fprintf(
            h,
            "int %s_%s_async(rpc_client *c, const %s *req,\n"
            "        %s_%s_done done, void *arg, const rpc_opts *opts);\n\n",
            pre, m->name, mn.in_t, pre, m->name);
    }
    fprintf(h,
            "/* Server side: one handler per method. A handler fills reply\n"
            " * (allocating from the call: rpc_call_alloc/strdup) and returns\n"
            " * a status code, or RPC_DEFER and finishes later with\n"
            " * rpc_call_finish(). */\n");
    fprintf(h, "typedef struct %s_handlers {\n", pre);
    for (size_t i = 0; i < s->n_method; i++) {
        method_names mn;
        names_for(s->method[i], &mn);
        fprintf(h,
                "    int (*%s)(rpc_call *call, const %s *req, %s *reply,\n"
                "              void *arg);\n",
                s->method[i]->name, mn.in_t, mn.out_t);
    }
    fprintf(h, "} %s_handlers;\n\n", pre);
    fprintf(h,
            "/* Registers every non-NULL handler of h on srv; arg is passed "
            "to\n * each. Returns 0 or an nng error code. */\n"
            "int %s_register(rpc_server *srv, const %s_handlers *h, void "
            "*arg);\n",
            pre, pre);
    fprintf(h,
            "/* Frees a reply returned by a sync call of %s. */\n"
            "void %s_free(void *reply);\n",
            s->name, pre);
}

static void emit_source_service(FILE *c, const FileProto *f,
                                const ServiceProto *s)
{
    char pre[256];
    const char *pkg = f->package ? f->package : "";
    c_prefix(pkg, s->name, pre, sizeof pre);
    fprintf(c, "\n/* ---- service %s ---- */\n\n", s->name);
    fprintf(c, "typedef struct { %s_handlers h; void *arg; } %s_binding;\n\n",
            pre, pre);
    for (size_t i = 0; i < s->n_method; i++) {
        const MethodProto *m = s->method[i];
        method_names mn;
        names_for(m, &mn);
        const char *nm = m->name;
        fprintf(c,
                "int %s_%s(rpc_client *c, const %s *req, %s **reply,\n"
                "        const rpc_opts *opts, rpc_status *st)\n{\n"
                "    ProtobufCMessage *r = NULL;\n"
                "    int rv = rpc_client_call(c, %s_%s_METHOD,\n"
                "        (const ProtobufCMessage *)req, &%s, &r, opts, st);\n"
                "    *reply = (%s *)r;\n"
                "    return rv;\n}\n\n",
                pre, nm, mn.in_t, mn.out_t, pre, nm, mn.out_d, mn.out_t);
        fprintf(c,
                "typedef struct { %s_%s_done done; void *arg; } %s_%s_actx;\n"
                "static void %s_%s_adone(void *arg, const rpc_status *st,\n"
                "        ProtobufCMessage *reply)\n{\n"
                "    %s_%s_actx a = *(%s_%s_actx *)arg;\n"
                "    free(arg);\n"
                "    a.done(a.arg, st, (%s *)reply);\n}\n\n",
                pre, nm, pre, nm, pre, nm, pre, nm, pre, nm, mn.out_t);
        fprintf(c,
                "int %s_%s_async(rpc_client *c, const %s *req,\n"
                "        %s_%s_done done, void *arg, const rpc_opts *opts)\n{\n"
                "    %s_%s_actx *a = malloc(sizeof *a);\n"
                "    if (a == NULL)\n        return RPC_RESOURCE_EXHAUSTED;\n"
                "    a->done = done;\n    a->arg = arg;\n"
                "    int rv = rpc_client_call_async(c, %s_%s_METHOD,\n"
                "        (const ProtobufCMessage *)req, &%s, %s_%s_adone, a,\n"
                "        opts);\n"
                "    if (rv != 0)\n        free(a);\n"
                "    return rv;\n}\n\n",
                pre, nm, mn.in_t, pre, nm, pre, nm, pre, nm, mn.out_d, pre, nm);
        fprintf(
            c,
            "static int %s_%s_tramp(rpc_call *call,\n"
            "        const ProtobufCMessage *req, ProtobufCMessage *reply,\n"
            "        void *arg)\n{\n"
            "    const %s_binding *b = arg;\n"
            "    return b->h.%s(call, (const %s *)req, (%s *)reply,\n"
            "        b->arg);\n}\n\n",
            pre, nm, pre, nm, mn.in_t, mn.out_t);
    }
    fprintf(c,
            "int %s_register(rpc_server *srv, const %s_handlers *h, void "
            "*arg)\n{\n"
            "    %s_binding *b = rpc_server_keep(srv, sizeof *b);\n"
            "    if (b == NULL)\n        return RPC_RESOURCE_EXHAUSTED;\n"
            "    b->h = *h;\n    b->arg = arg;\n    int rv = 0;\n",
            pre, pre, pre);
    for (size_t i = 0; i < s->n_method; i++) {
        method_names mn;
        names_for(s->method[i], &mn);
        const char *nm = s->method[i]->name;
        fprintf(c,
                "    if (rv == 0 && h->%s != NULL)\n"
                "        rv = rpc_server_add_method(srv, %s_%s_METHOD, &%s,\n"
                "            &%s, %s_%s_tramp, b);\n",
                nm, pre, nm, mn.in_d, mn.out_d, pre, nm);
    }
    fprintf(c, "    return rv;\n}\n\n");
    fprintf(c,
            "void %s_free(void *reply)\n{\n"
            "    if (reply != NULL)\n"
            "        protobuf_c_message_free_unpacked(\n"
            "            (ProtobufCMessage *)reply, NULL);\n}\n",
            pre);
}

static FileSet *read_set(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    size_t r;
    while (buf != NULL && (r = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += r;
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(fp);
    if (buf == NULL)
        return NULL;
    FileSet *set =
        google__protobuf__file_descriptor_set__unpack(NULL, len, buf);
    free(buf);
    return set;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sb-stubgen FILE.desc NAME.proto OUTDIR\n");
        return 2;
    }
    FileSet *set = read_set(argv[1]);
    if (set == NULL) {
        fprintf(stderr, "sb-stubgen: cannot read descriptor set %s\n", argv[1]);
        return 1;
    }
    const FileProto *f = NULL;
    for (size_t i = 0; i < set->n_file; i++)
        if (strcmp(set->file[i]->name, argv[2]) == 0)
            f = set->file[i];
    if (f == NULL) {
        fprintf(stderr, "sb-stubgen: %s not in %s\n", argv[2], argv[1]);
        return 1;
    }
    char base[256], path[1024], guard[300];
    snprintf(base, sizeof base, "%s", argv[2]);
    char *dot = strrchr(base, '.');
    if (dot)
        *dot = '\0';
    upper_guard(base, guard, sizeof guard);

    snprintf(path, sizeof path, "%s/%s.sb.h", argv[3], base);
    FILE *h = fopen(path, "w");
    snprintf(path, sizeof path, "%s/%s.sb.c", argv[3], base);
    FILE *c = fopen(path, "w");
    if (h == NULL || c == NULL) {
        fprintf(stderr, "sb-stubgen: cannot write to %s\n", argv[3]);
        return 1;
    }
    fprintf(h,
            "/* Generated by sb-stubgen from %s. Do not edit. */\n"
            "#ifndef SB_GEN_%s_SB_H\n#define SB_GEN_%s_SB_H\n\n"
            "#include \"%s.pb-c.h\"\n#include \"rpc.h\"\n",
            argv[2], guard, guard, base);
    fprintf(c,
            "/* Generated by sb-stubgen from %s. Do not edit. */\n"
            "#include <stdlib.h>\n#include \"%s.sb.h\"\n",
            argv[2], base);
    for (size_t i = 0; i < f->n_service; i++) {
        emit_header_service(h, f, f->service[i]);
        emit_source_service(c, f, f->service[i]);
    }
    fprintf(h, "\n#endif\n");
    int bad = ferror(h) || ferror(c);
    bad |= fclose(h) != 0;
    bad |= fclose(c) != 0;
    google__protobuf__file_descriptor_set__free_unpacked(set, NULL);
    return bad ? 1 : 0;
}
