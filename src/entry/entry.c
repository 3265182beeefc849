/* entry.c - what LibreOffice's shared-library loader calls, and the one
 * place that knows every layer: it wires the component's and the ui's
 * implementations into factories (src/README.md, "Layers").
 *
 * The library declares the binary "uno" environment (here and in
 * reportlink.components): without it the loader would hand C++ objects to
 * C code. The loader opens the library on the first createInstance of one
 * of its implementations and asks component_getFactory for a factory; the
 * first call also runs the start-up check, and a library that fails it
 * gives no factory at all, so the office reports the service as missing
 * instead of crashing later. */
#include "component.h"
#include "ui.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The loader's entry points have no C prototypes in the SDK. */
SAL_DLLPUBLIC_EXPORT void component_getImplementationEnvironment(const char **env_type_name,
                                                                 void **env);
SAL_DLLPUBLIC_EXPORT void *component_getFactory(const char *impl_name, void *service_manager,
                                                void *registry_key);

void component_getImplementationEnvironment(const char **env_type_name, void **env)
{
    *env_type_name = "uno";
}

/* ------------------------------------------------------------------ factories */

typedef struct factory {
    rl_uno_object obj;
    const char *impl;     /* RLC_IMPL_LINK, RLC_IMPL_JOB, RLU_IMPL_PANEL_FACTORY or
                             RLU_IMPL_OPTIONS_HANDLER */
} factory;

static void create_with_context(rl_uno_object *self, uno_Any **exc, uno_Interface **ret, uno_Interface *ctx)
{
    factory *f = RL_UNO_SELF(self, factory, obj);
    uno_Interface *instance = strcmp(f->impl, RLC_IMPL_LINK) == 0 ? rlc_link_get(ctx)
                              : strcmp(f->impl, RLC_IMPL_JOB) == 0 ? rlc_job_new(ctx)
                              : strcmp(f->impl, RLU_IMPL_DISPATCHER) == 0 ? rlu_dispatcher_new(ctx)
                              : strcmp(f->impl, RLU_IMPL_OPTIONS_HANDLER) == 0 ? rlu_options_handler_new(ctx)
                              : rlu_panel_factory_new(ctx);
    if (!instance) {
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &self->iface,
                     "%s cannot start; " RL_OS_LOG_PLACE " says why (lines starting with reportlink:)",
                     f->impl);
        return;
    }
    *ret = instance;   /* the return value takes our reference */
}
RL_UNO_SKELETON_XSingleComponentFactory_createInstanceWithContext(m_create, create_with_context)

static void create_with_arguments(rl_uno_object *self, uno_Any **exc, uno_Interface **ret, uno_Sequence *args,
                                  uno_Interface *ctx)
{
    /* No implementation takes arguments. */
    create_with_context(self, exc, ret, ctx);
}
RL_UNO_SKELETON_XSingleComponentFactory_createInstanceWithArgumentsAndContext(m_create_with_arguments,
                                                                              create_with_arguments)

static void factory_destroy(rl_uno_object *self)
{
    free(RL_UNO_SELF(self, factory, obj));
}

static const int factory_interfaces[] = { RL_UNO_T_XSingleComponentFactory, -1 };
static const rl_uno_method factory_methods[] = {
    { RL_UNO_MN_XSingleComponentFactory_createInstanceWithContext, m_create },
    { RL_UNO_MN_XSingleComponentFactory_createInstanceWithArgumentsAndContext, m_create_with_arguments },
    { NULL, NULL }
};
static const rl_uno_class rlc_factory_class = {
    "org.reportlink.Factory", NULL, factory_interfaces, factory_methods, factory_destroy
};

/* ------------------------------------------------------------------ start-up check */

static pthread_once_t check_once = PTHREAD_ONCE_INIT;
static int check_ok;

static void check(void)
{
    static const rl_uno_class *const classes[] = {
        &rlc_link_class, &rlc_handover_class, &rlc_settings_watch_class,
        &rlc_job_class, &rlc_terminate_class, &rlc_silent_handler_class, &rlc_letter_watch_class,
        &rlc_undo_watch_class,
    };
    rl_uno_err err;

    if (rl_uno_init(&err) != RL_OK) {
        rl_log("cannot start: %s", err.message);
        return;
    }
    if (rl_uno_class_check(&rlc_factory_class, &err) != RL_OK) {
        rl_log("cannot start: %s", err.message);
        return;
    }
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        if (rl_uno_class_check(classes[i], &err) != RL_OK) {
            rl_log("cannot start: %s", err.message);
            return;
        }
    }
    if (rlu_check(&err) != RL_OK) {
        rl_log("cannot start: %s", err.message);
        return;
    }
    check_ok = 1;
}

void *component_getFactory(const char *impl_name, void *service_manager, void *registry_key)
{
    factory *f;

    pthread_once(&check_once, check);
    if (!check_ok)
        return NULL;
    static const char *const impls[] = { RLC_IMPL_LINK, RLC_IMPL_JOB, RLU_IMPL_PANEL_FACTORY,
                                         RLU_IMPL_DISPATCHER, RLU_IMPL_OPTIONS_HANDLER };
    const char *impl = NULL;
    for (size_t i = 0; i < sizeof impls / sizeof impls[0] && !impl; i++)
        impl = strcmp(impl_name, impls[i]) == 0 ? impls[i] : NULL;
    if (!impl)
        return NULL;
    if (!(f = calloc(1, sizeof *f)))
        return NULL;
    rl_uno_object_init(&f->obj, &rlc_factory_class);
    f->impl = impl;
    return &f->obj.iface;   /* the loader takes this reference */
}
