//! The skip lists, as data: frames that are never the function a human would blame
//! (reporting machinery, allocators, string and copy helpers, locking and atomics,
//! containers, exception entry, interrupt and stall plumbing, dispatchers), each entry
//! with the reason and an example that a test checks. Matching is on the normalized name
//! (see `signature::normalize_function`), anchored (exact, prefix or suffix) except where
//! an entry says `Contains`, to avoid syzkaller's blunt substring hits.

use crashsift_model::report::Kind;

/// How a rule's pattern is compared with a normalized function name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Exact,
    Prefix,
    Suffix,
    Contains,
}

/// One skip rule.
#[derive(Debug, Clone, Copy)]
pub struct SkipRule {
    pub pattern: &'static str,
    pub how: Match,
    /// Kinds the rule applies to; empty means every kind.
    pub kinds: &'static [Kind],
    /// Why such a frame is never guilty.
    pub why: &'static str,
    /// A function name the rule must skip (checked by a test).
    pub example: &'static str,
}

const fn r(
    pattern: &'static str,
    how: Match,
    why: &'static str,
    example: &'static str,
) -> SkipRule {
    SkipRule {
        pattern,
        how,
        kinds: &[],
        why,
        example,
    }
}

const fn k(
    pattern: &'static str,
    how: Match,
    kinds: &'static [Kind],
    why: &'static str,
    example: &'static str,
) -> SkipRule {
    SkipRule {
        pattern,
        how,
        kinds,
        why,
        example,
    }
}

use Match::{Contains, Exact, Prefix, Suffix};

const REPORT: &str = "reporting machinery";
const SAN: &str = "sanitizer runtime";
const ALLOC: &str = "allocator";
const STR: &str = "string, memory or user-copy helper";
const LOCK: &str = "locking primitive";
const ATOMIC: &str = "atomic, bit or reference-count helper";
const LIST: &str = "container helper";
const TRAP: &str = "exception or fault entry";
const IRQ: &str = "interrupt, timer or watchdog plumbing";
const DISPATCH: &str = "generic dispatcher or entry code below the real caller";
const HANG: &str = "sleeping or waiting primitive of a blocked task";
const LEAK: &str = "allocation wrapper in a leak backtrace";
const SCHED: &str = "scheduler entry of a sleeping-in-atomic report";

const HUNG: &[Kind] = &[Kind::HungTask];
const SLEEPY: &[Kind] = &[Kind::HungTask, Kind::Bug];
const LEAKY: &[Kind] = &[Kind::MemoryLeak];

/// Every skip rule, in no particular order; see the module header.
pub const SKIP_RULES: &[SkipRule] = &[
    // reporting machinery
    r("dump_stack", Prefix, REPORT, "dump_stack_lvl"),
    r("show_stack", Exact, REPORT, "show_stack"),
    r("show_trace", Prefix, REPORT, "show_trace_log_lvl"),
    r("dump_trace", Exact, REPORT, "dump_trace"),
    r("dump_backtrace", Prefix, REPORT, "dump_backtrace_log_lvl"),
    r("walk_stack", Prefix, REPORT, "walk_stackframe"),
    r("show_regs", Prefix, REPORT, "show_regs_print_info"),
    r("__show_regs", Exact, REPORT, "__show_regs"),
    r(
        "print_address_description",
        Exact,
        REPORT,
        "print_address_description",
    ),
    r("print_report", Exact, REPORT, "print_report"),
    r("print_tainted", Exact, REPORT, "print_tainted"),
    r("panic", Exact, REPORT, "panic"),
    r("vpanic", Exact, REPORT, "vpanic"),
    r("nmi_panic", Exact, REPORT, "nmi_panic"),
    r("__warn", Prefix, REPORT, "__warn_printk"),
    r("warn_slowpath", Prefix, REPORT, "warn_slowpath_null"),
    r("warn_alloc", Exact, REPORT, "warn_alloc"),
    r("report_bug", Exact, REPORT, "report_bug"),
    r("fixup_bug", Exact, REPORT, "fixup_bug"),
    r("handle_bug", Exact, REPORT, "handle_bug"),
    r("bug_handler", Exact, REPORT, "bug_handler"),
    r("die", Exact, REPORT, "die"),
    r("__die", Prefix, REPORT, "__die_body"),
    r("die_kernel_fault", Exact, REPORT, "die_kernel_fault"),
    r("oops_end", Exact, REPORT, "oops_end"),
    r("stack_trace_", Prefix, REPORT, "stack_trace_save"),
    r("save_stack", Prefix, REPORT, "save_stack_trace"),
    r("arch_stack_walk", Exact, REPORT, "arch_stack_walk"),
    r("object_err", Exact, REPORT, "object_err"),
    r("check_object", Exact, REPORT, "check_object"),
    r("slab_err", Exact, REPORT, "slab_err"),
    r("print_trailer", Exact, REPORT, "print_trailer"),
    r(
        "free_debug_processing",
        Exact,
        REPORT,
        "free_debug_processing",
    ),
    r("lockdep_", Prefix, REPORT, "lockdep_rcu_suspicious"),
    r("__lock_acquire", Exact, REPORT, "__lock_acquire"),
    r("lock_acquire", Exact, REPORT, "lock_acquire"),
    r("lock_release", Exact, REPORT, "lock_release"),
    r("lock_acquired", Exact, REPORT, "lock_acquired"),
    r("lock_contended", Exact, REPORT, "lock_contended"),
    r("print_usage_bug", Exact, REPORT, "print_usage_bug"),
    r("print_circular_bug", Exact, REPORT, "print_circular_bug"),
    r("mark_lock", Prefix, REPORT, "mark_lock_irq"),
    r("valid_state", Exact, REPORT, "valid_state"),
    r("check_prev_add", Exact, REPORT, "check_prev_add"),
    r("check_prevs_add", Exact, REPORT, "check_prevs_add"),
    r("validate_chain", Exact, REPORT, "validate_chain"),
    r("check_noncircular", Exact, REPORT, "check_noncircular"),
    r(
        "debug_check_no_locks_freed",
        Exact,
        REPORT,
        "debug_check_no_locks_freed",
    ),
    r("debug_object", Prefix, REPORT, "debug_object_assert_init"),
    r("debug_print_object", Exact, REPORT, "debug_print_object"),
    r("__might_sleep", Exact, REPORT, "__might_sleep"),
    r("___might_sleep", Exact, REPORT, "___might_sleep"),
    r("__might_resched", Exact, REPORT, "__might_resched"),
    r("__might_fault", Exact, REPORT, "__might_fault"),
    r("might_fault", Exact, REPORT, "might_fault"),
    r("__schedule_bug", Exact, REPORT, "__schedule_bug"),
    r("schedule_debug", Exact, REPORT, "schedule_debug"),
    r(
        "refcount_warn_saturate",
        Exact,
        REPORT,
        "refcount_warn_saturate",
    ),
    r("fortify_panic", Exact, REPORT, "fortify_panic"),
    r("__fortify_", Prefix, REPORT, "__fortify_report"),
    r("usercopy_abort", Exact, REPORT, "usercopy_abort"),
    r("__check_object_size", Exact, REPORT, "__check_object_size"),
    r("check_heap_object", Exact, REPORT, "check_heap_object"),
    r("skb_panic", Exact, REPORT, "skb_panic"),
    r("skb_over_panic", Exact, REPORT, "skb_over_panic"),
    r("skb_under_panic", Exact, REPORT, "skb_under_panic"),
    r("native_write_msr", Prefix, REPORT, "native_write_msr_safe"),
    r("native_read_msr", Prefix, REPORT, "native_read_msr"),
    r("ex_handler_", Prefix, REPORT, "ex_handler_msr"),
    r("should_fail", Prefix, REPORT, "should_fail_ex"),
    r("nmi_cpu_backtrace", Exact, REPORT, "nmi_cpu_backtrace"),
    r(
        "nmi_trigger_cpumask_backtrace",
        Exact,
        REPORT,
        "nmi_trigger_cpumask_backtrace",
    ),
    r(
        "arch_trigger_cpumask_backtrace",
        Exact,
        REPORT,
        "arch_trigger_cpumask_backtrace",
    ),
    r(
        "trigger_single_cpu_backtrace",
        Exact,
        REPORT,
        "trigger_single_cpu_backtrace",
    ),
    r("rcu_dump_cpu_stacks", Exact, REPORT, "rcu_dump_cpu_stacks"),
    r("print_cpu_stall", Exact, REPORT, "print_cpu_stall"),
    r("check_cpu_stall", Exact, REPORT, "check_cpu_stall"),
    r("dump_cpu_task", Exact, REPORT, "dump_cpu_task"),
    r("sched_show_task", Exact, REPORT, "sched_show_task"),
    r("unwind_backtrace", Exact, REPORT, "unwind_backtrace"),
    r("watchdog", Exact, REPORT, "watchdog"),
    r(
        "rcu_preempt_sleep_check",
        Exact,
        REPORT,
        "rcu_preempt_sleep_check",
    ),
    r("rcu_sleep_check", Exact, REPORT, "rcu_sleep_check"),
    r("flush_work", Exact, REPORT, "flush_work"),
    r("__flush_work", Exact, REPORT, "__flush_work"),
    r("flush_workqueue", Exact, REPORT, "flush_workqueue"),
    // sanitizer runtimes
    r("kasan_", Prefix, SAN, "kasan_report"),
    r("__kasan_", Prefix, SAN, "__kasan_slab_free"),
    r("__asan_", Prefix, SAN, "__asan_report_store1_noabort"),
    r("asan_", Prefix, SAN, "asan_report_load8"),
    r(
        "check_memory_region",
        Prefix,
        SAN,
        "check_memory_region_inline",
    ),
    r("kfence_", Prefix, SAN, "kfence_report_error"),
    r("__kfence_", Prefix, SAN, "__kfence_free"),
    r("kmsan_", Prefix, SAN, "kmsan_report"),
    r("__msan_", Prefix, SAN, "__msan_warning"),
    r("kcsan_", Prefix, SAN, "kcsan_setup_watchpoint"),
    r("__tsan_", Prefix, SAN, "__tsan_read8"),
    r("ubsan_", Prefix, SAN, "ubsan_epilogue"),
    r(
        "__ubsan_",
        Prefix,
        SAN,
        "__ubsan_handle_shift_out_of_bounds",
    ),
    r("__sanitizer_", Prefix, SAN, "__sanitizer_cov_trace_pc"),
    r("kmemleak_", Prefix, SAN, "kmemleak_alloc"),
    r("trace_hardirqs_", Prefix, SAN, "trace_hardirqs_off_thunk"),
    // allocators
    r("kmalloc", Exact, ALLOC, "kmalloc"),
    r("kmalloc_node", Prefix, ALLOC, "kmalloc_node_track_caller"),
    r("kmalloc_array", Prefix, ALLOC, "kmalloc_array_node"),
    r("kmalloc_large", Prefix, ALLOC, "kmalloc_large_node"),
    r("kmalloc_order", Prefix, ALLOC, "kmalloc_order_trace"),
    r("kmalloc_trace", Prefix, ALLOC, "kmalloc_trace_noprof"),
    r("kmalloc_slab", Exact, ALLOC, "kmalloc_slab"),
    r("kmalloc_noprof", Exact, ALLOC, "kmalloc_noprof"),
    r("__kmalloc", Prefix, ALLOC, "__kmalloc_node_track_caller"),
    r("__do_kmalloc", Prefix, ALLOC, "__do_kmalloc_node"),
    r("kzalloc", Exact, ALLOC, "kzalloc"),
    r("kzalloc_node", Exact, ALLOC, "kzalloc_node"),
    r("kzalloc_noprof", Exact, ALLOC, "kzalloc_noprof"),
    r("kcalloc", Exact, ALLOC, "kcalloc"),
    r("kvmalloc", Prefix, ALLOC, "kvmalloc_node"),
    r("__kvmalloc", Prefix, ALLOC, "__kvmalloc_node"),
    r("kvzalloc", Prefix, ALLOC, "kvzalloc"),
    r("kvcalloc", Prefix, ALLOC, "kvcalloc"),
    r("vmalloc", Exact, ALLOC, "vmalloc"),
    r("vmalloc_user", Exact, ALLOC, "vmalloc_user"),
    r("vmalloc_node", Prefix, ALLOC, "vmalloc_node_range"),
    r("vmalloc_32", Prefix, ALLOC, "vmalloc_32_user"),
    r("__vmalloc", Prefix, ALLOC, "__vmalloc_node_range"),
    r("vzalloc", Prefix, ALLOC, "vzalloc"),
    r("krealloc", Prefix, ALLOC, "krealloc_array"),
    r("__krealloc", Exact, ALLOC, "__krealloc"),
    r("kmem_cache_", Prefix, ALLOC, "kmem_cache_alloc_trace"),
    r("__kmem_cache_", Prefix, ALLOC, "__kmem_cache_free"),
    r("slab_", Prefix, ALLOC, "slab_free_freelist_hook"),
    r("__slab_", Prefix, ALLOC, "__slab_free"),
    r("___slab_alloc", Exact, ALLOC, "___slab_alloc"),
    r("___cache_free", Exact, ALLOC, "___cache_free"),
    r("__cache_free", Exact, ALLOC, "__cache_free"),
    r("new_slab", Exact, ALLOC, "new_slab"),
    r("allocate_slab", Exact, ALLOC, "allocate_slab"),
    r("kfree", Exact, ALLOC, "kfree"),
    r("kvfree", Exact, ALLOC, "kvfree"),
    r("vfree", Exact, ALLOC, "vfree"),
    r("__vfree", Exact, ALLOC, "__vfree"),
    r("kfree_sensitive", Exact, ALLOC, "kfree_sensitive"),
    r("kzfree", Exact, ALLOC, "kzfree"),
    r("kfree_skb", Prefix, ALLOC, "kfree_skb_reason"),
    r("__kfree_skb", Exact, ALLOC, "__kfree_skb"),
    r("alloc_pages", Prefix, ALLOC, "alloc_pages_current"),
    r("__alloc_pages", Prefix, ALLOC, "__alloc_pages_nodemask"),
    r("alloc_page", Exact, ALLOC, "alloc_page"),
    r("__get_free_pages", Exact, ALLOC, "__get_free_pages"),
    r("get_zeroed_page", Exact, ALLOC, "get_zeroed_page"),
    r("free_pages", Exact, ALLOC, "free_pages"),
    r("__free_pages", Exact, ALLOC, "__free_pages"),
    r("kmemdup", Prefix, ALLOC, "kmemdup_nul"),
    r("kstrdup", Prefix, ALLOC, "kstrdup_const"),
    r("kstrndup", Exact, ALLOC, "kstrndup"),
    r("kasprintf", Exact, ALLOC, "kasprintf"),
    r("kvasprintf", Prefix, ALLOC, "kvasprintf_const"),
    r("memdup_user", Prefix, ALLOC, "memdup_user_nul"),
    r("vmemdup_user", Exact, ALLOC, "vmemdup_user"),
    // string, memory and user-copy helpers
    r("memcpy", Prefix, STR, "memcpy_erms"),
    r("__memcpy", Prefix, STR, "__memcpy"),
    r("memset", Prefix, STR, "memset_orig"),
    r("__memset", Exact, STR, "__memset"),
    r("memmove", Exact, STR, "memmove"),
    r("__memmove", Exact, STR, "__memmove"),
    r("memcmp", Exact, STR, "memcmp"),
    r("__memcmp", Exact, STR, "__memcmp"),
    r("bcmp", Exact, STR, "bcmp"),
    r("memchr", Prefix, STR, "memchr_inv"),
    r("memscan", Exact, STR, "memscan"),
    r("strlen", Exact, STR, "strlen"),
    r("strnlen", Exact, STR, "strnlen"),
    r("strcpy", Exact, STR, "strcpy"),
    r("strncpy", Exact, STR, "strncpy"),
    r("strlcpy", Exact, STR, "strlcpy"),
    r("strscpy", Prefix, STR, "strscpy_pad"),
    r("sized_strscpy", Exact, STR, "sized_strscpy"),
    r("strcat", Exact, STR, "strcat"),
    r("strncat", Exact, STR, "strncat"),
    r("strlcat", Exact, STR, "strlcat"),
    r("strcmp", Exact, STR, "strcmp"),
    r("strncmp", Exact, STR, "strncmp"),
    r("strcasecmp", Exact, STR, "strcasecmp"),
    r("strncasecmp", Exact, STR, "strncasecmp"),
    r("strchr", Exact, STR, "strchr"),
    r("strnchr", Exact, STR, "strnchr"),
    r("strrchr", Exact, STR, "strrchr"),
    r("strstr", Exact, STR, "strstr"),
    r("strnstr", Exact, STR, "strnstr"),
    r("strsep", Exact, STR, "strsep"),
    r("strspn", Exact, STR, "strspn"),
    r("strcspn", Exact, STR, "strcspn"),
    r("strpbrk", Exact, STR, "strpbrk"),
    r("kstrto", Prefix, STR, "kstrtoint"),
    r("simple_strto", Prefix, STR, "simple_strtoul"),
    r("copy_user_", Prefix, STR, "copy_user_enhanced_fast_string"),
    r("copy_to_user", Prefix, STR, "copy_to_user_nofault"),
    r("copy_from_user", Prefix, STR, "copy_from_user_nofault"),
    r("_copy_to_user", Exact, STR, "_copy_to_user"),
    r("_copy_from_user", Exact, STR, "_copy_from_user"),
    r("__copy_to_user", Prefix, STR, "__copy_to_user_inatomic"),
    r("__copy_from_user", Prefix, STR, "__copy_from_user_inatomic"),
    r("raw_copy_", Prefix, STR, "raw_copy_from_user"),
    r("__copy_user", Prefix, STR, "__copy_user_nocache"),
    r("copy_to_iter", Exact, STR, "copy_to_iter"),
    r("_copy_to_iter", Exact, STR, "_copy_to_iter"),
    r("copy_from_iter", Exact, STR, "copy_from_iter"),
    r("_copy_from_iter", Exact, STR, "_copy_from_iter"),
    r("copy_page_to_iter", Exact, STR, "copy_page_to_iter"),
    r("copy_page_from_iter", Exact, STR, "copy_page_from_iter"),
    r("__get_user_", Prefix, STR, "__get_user_8"),
    r("__put_user_", Prefix, STR, "__put_user_4"),
    r("strncpy_from_user", Exact, STR, "strncpy_from_user"),
    r("strnlen_user", Exact, STR, "strnlen_user"),
    r("clear_user", Exact, STR, "clear_user"),
    r("__clear_user", Exact, STR, "__clear_user"),
    r("rep_movs_alternative", Exact, STR, "rep_movs_alternative"),
    r("rep_stos_alternative", Exact, STR, "rep_stos_alternative"),
    r("vsnprintf", Exact, STR, "vsnprintf"),
    r("snprintf", Exact, STR, "snprintf"),
    r("sprintf", Exact, STR, "sprintf"),
    r("vsprintf", Exact, STR, "vsprintf"),
    r("scnprintf", Exact, STR, "scnprintf"),
    r("vscnprintf", Exact, STR, "vscnprintf"),
    r("string", Exact, STR, "string"),
    r("string_nocheck", Exact, STR, "string_nocheck"),
    r("pointer", Exact, STR, "pointer"),
    r("printk", Exact, STR, "printk"),
    r("_printk", Exact, STR, "_printk"),
    r("vprintk", Prefix, STR, "vprintk_emit"),
    // locking
    r("_raw_spin_", Prefix, LOCK, "_raw_spin_lock_irqsave"),
    r("_raw_read_", Prefix, LOCK, "_raw_read_lock"),
    r("_raw_write_", Prefix, LOCK, "_raw_write_lock_bh"),
    r("do_raw_spin_", Prefix, LOCK, "do_raw_spin_lock"),
    r("do_raw_read_", Prefix, LOCK, "do_raw_read_lock"),
    r("do_raw_write_", Prefix, LOCK, "do_raw_write_lock"),
    r("spin_lock", Prefix, LOCK, "spin_lock_irqsave"),
    r("spin_unlock", Prefix, LOCK, "spin_unlock_irqrestore"),
    r(
        "queued_spin_lock_slowpath",
        Suffix,
        LOCK,
        "native_queued_spin_lock_slowpath",
    ),
    r(
        "queued_read_lock_slowpath",
        Exact,
        LOCK,
        "queued_read_lock_slowpath",
    ),
    r(
        "queued_write_lock_slowpath",
        Exact,
        LOCK,
        "queued_write_lock_slowpath",
    ),
    r("mutex_", Prefix, LOCK, "mutex_lock_nested"),
    r("__mutex_", Prefix, LOCK, "__mutex_lock"),
    r("rt_mutex_", Prefix, LOCK, "rt_mutex_slowlock"),
    r("__rt_mutex_", Prefix, LOCK, "__rt_mutex_slowlock"),
    r("ww_mutex_", Prefix, LOCK, "ww_mutex_lock"),
    r("__ww_mutex_", Prefix, LOCK, "__ww_mutex_lock"),
    r("down_read", Prefix, LOCK, "down_read_killable"),
    r("down_write", Prefix, LOCK, "down_write_nested"),
    r("down", Exact, LOCK, "down"),
    r("down_interruptible", Exact, LOCK, "down_interruptible"),
    r("down_killable", Exact, LOCK, "down_killable"),
    r("down_timeout", Exact, LOCK, "down_timeout"),
    r("down_trylock", Exact, LOCK, "down_trylock"),
    r("up_read", Exact, LOCK, "up_read"),
    r("up_write", Exact, LOCK, "up_write"),
    r("up", Exact, LOCK, "up"),
    r("rwsem_", Prefix, LOCK, "rwsem_down_write_slowpath"),
    r("__rwsem_", Prefix, LOCK, "__rwsem_down_read_failed_common"),
    r("percpu_down_", Prefix, LOCK, "percpu_down_write"),
    r("__percpu_down_", Prefix, LOCK, "__percpu_down_read"),
    r("percpu_up_", Prefix, LOCK, "percpu_up_write"),
    r("percpu_rwsem_", Prefix, LOCK, "percpu_rwsem_wait"),
    r("osq_lock", Exact, LOCK, "osq_lock"),
    r("__rcu_read_", Prefix, LOCK, "__rcu_read_lock"),
    r("rcu_read_lock", Prefix, LOCK, "rcu_read_lock_held"),
    r("rcu_read_unlock", Prefix, LOCK, "rcu_read_unlock_special"),
    // atomics, bit operations, reference counts
    r("atomic_", Prefix, ATOMIC, "atomic_dec_and_test"),
    r("atomic64_", Prefix, ATOMIC, "atomic64_add"),
    r("arch_atomic", Prefix, ATOMIC, "arch_atomic_inc"),
    r("raw_atomic", Prefix, ATOMIC, "raw_atomic_read"),
    r("set_bit", Exact, ATOMIC, "set_bit"),
    r("clear_bit", Exact, ATOMIC, "clear_bit"),
    r("change_bit", Exact, ATOMIC, "change_bit"),
    r("test_bit", Exact, ATOMIC, "test_bit"),
    r("test_and_set_bit", Prefix, ATOMIC, "test_and_set_bit_lock"),
    r("test_and_clear_bit", Exact, ATOMIC, "test_and_clear_bit"),
    r("refcount_", Prefix, ATOMIC, "refcount_dec_and_test"),
    r("__refcount_", Prefix, ATOMIC, "__refcount_add"),
    r("kref_", Prefix, ATOMIC, "kref_put"),
    // containers
    r("__list_", Prefix, LIST, "__list_del_entry_valid"),
    r("list_add", Exact, LIST, "list_add"),
    r("list_add_tail", Exact, LIST, "list_add_tail"),
    r("list_del", Exact, LIST, "list_del"),
    r("list_del_init", Exact, LIST, "list_del_init"),
    r("rb_", Prefix, LIST, "rb_erase"),
    r("__rb_", Prefix, LIST, "__rb_insert_augmented"),
    r("xas_", Prefix, LIST, "xas_load"),
    r("klist_", Prefix, LIST, "klist_next"),
    r("rhashtable_lookup", Prefix, LIST, "rhashtable_lookup_fast"),
    r("__rhashtable_lookup", Exact, LIST, "__rhashtable_lookup"),
    // exception and fault entry
    r("do_mem_abort", Exact, TRAP, "do_mem_abort"),
    r("el1_abort", Exact, TRAP, "el1_abort"),
    r("el1_da", Exact, TRAP, "el1_da"),
    r("el1h_64_sync", Prefix, TRAP, "el1h_64_sync_handler"),
    r("el1_sync", Prefix, TRAP, "el1_sync_handler"),
    r("el1_dbg", Exact, TRAP, "el1_dbg"),
    r("__do_kernel_fault", Exact, TRAP, "__do_kernel_fault"),
    r("do_translation_fault", Exact, TRAP, "do_translation_fault"),
    r("do_debug_exception", Exact, TRAP, "do_debug_exception"),
    r("call_break_hook", Exact, TRAP, "call_break_hook"),
    r("brk_handler", Exact, TRAP, "brk_handler"),
    r("do_page_fault", Exact, TRAP, "do_page_fault"),
    r("__do_page_fault", Exact, TRAP, "__do_page_fault"),
    r("page_fault_oops", Exact, TRAP, "page_fault_oops"),
    r("no_context", Exact, TRAP, "no_context"),
    r(
        "kernelmode_fixup_or_oops",
        Exact,
        TRAP,
        "kernelmode_fixup_or_oops",
    ),
    r(
        "bad_area_nosemaphore",
        Suffix,
        TRAP,
        "__bad_area_nosemaphore",
    ),
    r("do_user_addr_fault", Exact, TRAP, "do_user_addr_fault"),
    r("do_kern_addr_fault", Exact, TRAP, "do_kern_addr_fault"),
    r("exc_page_fault", Exact, TRAP, "exc_page_fault"),
    r("asm_exc_", Prefix, TRAP, "asm_exc_invalid_op"),
    r("exc_invalid_op", Exact, TRAP, "exc_invalid_op"),
    r(
        "exc_general_protection",
        Exact,
        TRAP,
        "exc_general_protection",
    ),
    r("exc_int3", Exact, TRAP, "exc_int3"),
    r("page_fault", Exact, TRAP, "page_fault"),
    r("async_page_fault", Exact, TRAP, "async_page_fault"),
    r("general_protection", Exact, TRAP, "general_protection"),
    r(
        "do_general_protection",
        Exact,
        TRAP,
        "do_general_protection",
    ),
    r("invalid_op", Exact, TRAP, "invalid_op"),
    r("do_invalid_op", Exact, TRAP, "do_invalid_op"),
    r("do_error_trap", Exact, TRAP, "do_error_trap"),
    r("do_trap", Exact, TRAP, "do_trap"),
    r("do_int3", Prefix, TRAP, "do_int3_user"),
    r("error_entry", Exact, TRAP, "error_entry"),
    r("error_exit", Exact, TRAP, "error_exit"),
    r(
        "_indirect_thunk_",
        Contains,
        TRAP,
        "__x86_indirect_thunk_rax",
    ),
    r("__x86_return_thunk", Exact, TRAP, "__x86_return_thunk"),
    // interrupt, timer and watchdog plumbing
    r("rcu_sched_clock_irq", Exact, IRQ, "rcu_sched_clock_irq"),
    r("rcu_pending", Exact, IRQ, "rcu_pending"),
    r("rcu_check_callbacks", Exact, IRQ, "rcu_check_callbacks"),
    r("update_process_times", Exact, IRQ, "update_process_times"),
    r("tick_sched_", Prefix, IRQ, "tick_sched_timer"),
    r("tick_nohz_handler", Exact, IRQ, "tick_nohz_handler"),
    r("__hrtimer_run_queues", Exact, IRQ, "__hrtimer_run_queues"),
    r("hrtimer_interrupt", Exact, IRQ, "hrtimer_interrupt"),
    r(
        "local_apic_timer_interrupt",
        Exact,
        IRQ,
        "local_apic_timer_interrupt",
    ),
    r(
        "apic_timer_interrupt",
        Suffix,
        IRQ,
        "smp_apic_timer_interrupt",
    ),
    r("sysvec_", Prefix, IRQ, "sysvec_apic_timer_interrupt"),
    r("__sysvec_", Prefix, IRQ, "__sysvec_apic_timer_interrupt"),
    r("watchdog_timer_fn", Exact, IRQ, "watchdog_timer_fn"),
    r(
        "watchdog_overflow_callback",
        Exact,
        IRQ,
        "watchdog_overflow_callback",
    ),
    r("__perf_event_overflow", Exact, IRQ, "__perf_event_overflow"),
    r(
        "perf_event_nmi_handler",
        Exact,
        IRQ,
        "perf_event_nmi_handler",
    ),
    r("nmi_handle", Exact, IRQ, "nmi_handle"),
    r("default_do_nmi", Exact, IRQ, "default_do_nmi"),
    r("exc_nmi", Exact, IRQ, "exc_nmi"),
    r("do_nmi", Exact, IRQ, "do_nmi"),
    r("end_repeat_nmi", Exact, IRQ, "end_repeat_nmi"),
    r("irq_exit", Prefix, IRQ, "irq_exit_rcu"),
    r("__irq_exit_rcu", Exact, IRQ, "__irq_exit_rcu"),
    r("do_softirq", Prefix, IRQ, "do_softirq_own_stack"),
    r("__do_softirq", Exact, IRQ, "__do_softirq"),
    r("handle_softirqs", Exact, IRQ, "handle_softirqs"),
    r("run_ksoftirqd", Exact, IRQ, "run_ksoftirqd"),
    r("common_interrupt", Suffix, IRQ, "asm_common_interrupt"),
    r("do_IRQ", Exact, IRQ, "do_IRQ"),
    // dispatchers and entry code
    r("do_syscall_", Prefix, DISPATCH, "do_syscall_64"),
    r("do_fast_syscall_32", Exact, DISPATCH, "do_fast_syscall_32"),
    r(
        "__do_fast_syscall_32",
        Exact,
        DISPATCH,
        "__do_fast_syscall_32",
    ),
    r(
        "do_int80_syscall_32",
        Exact,
        DISPATCH,
        "do_int80_syscall_32",
    ),
    r(
        "entry_SYSCALL",
        Prefix,
        DISPATCH,
        "entry_SYSCALL_64_after_hwframe",
    ),
    r("entry_SYSENTER", Prefix, DISPATCH, "entry_SYSENTER_compat"),
    r("entry_INT80", Prefix, DISPATCH, "entry_INT80_compat"),
    r("ret_from_fork", Prefix, DISPATCH, "ret_from_fork_asm"),
    r("kthread", Exact, DISPATCH, "kthread"),
    r("worker_thread", Exact, DISPATCH, "worker_thread"),
    r("process_one_work", Exact, DISPATCH, "process_one_work"),
    r(
        "process_scheduled_works",
        Exact,
        DISPATCH,
        "process_scheduled_works",
    ),
    r(
        "kernel_thread_helper",
        Exact,
        DISPATCH,
        "kernel_thread_helper",
    ),
    r("el0_svc", Prefix, DISPATCH, "el0_svc_common"),
    r("do_el0_svc", Exact, DISPATCH, "do_el0_svc"),
    r("invoke_syscall", Exact, DISPATCH, "invoke_syscall"),
    r("el0t_64_sync", Prefix, DISPATCH, "el0t_64_sync_handler"),
    r("ret_fast_syscall", Exact, DISPATCH, "ret_fast_syscall"),
    r(
        "system_call_fastpath",
        Exact,
        DISPATCH,
        "system_call_fastpath",
    ),
    r("sysenter_past_esp", Exact, DISPATCH, "sysenter_past_esp"),
    r("syscall_exit", Exact, DISPATCH, "syscall_exit"),
    r("sysc_nr_ok", Exact, DISPATCH, "sysc_nr_ok"),
    r("do_one_initcall", Exact, DISPATCH, "do_one_initcall"),
    r("do_init_module", Exact, DISPATCH, "do_init_module"),
    r("load_module", Exact, DISPATCH, "load_module"),
    r("kunit_try_run_case", Exact, DISPATCH, "kunit_try_run_case"),
    r(
        "kunit_generic_run_threadfn_adapter",
        Exact,
        DISPATCH,
        "kunit_generic_run_threadfn_adapter",
    ),
    r(
        "kunit_run_case_internal",
        Exact,
        DISPATCH,
        "kunit_run_case_internal",
    ),
    // per kind: a blocked task's own sleeping frames
    k("sched", Contains, HUNG, HANG, "io_schedule_timeout"),
    k("_lock", Contains, HUNG, HANG, "rtnl_lock_killable"),
    k("down", Contains, HUNG, HANG, "rwsem_down_read_slowpath"),
    k("rwsem", Contains, HUNG, HANG, "percpu_rwsem_wait"),
    k(
        "completion",
        Contains,
        HUNG,
        HANG,
        "wait_for_completion_killable",
    ),
    k("wait", Contains, HUNG, HANG, "wait_on_page_bit_common"),
    k(
        "synchronize",
        Contains,
        HUNG,
        HANG,
        "synchronize_srcu_expedited",
    ),
    k("context_switch", Exact, HUNG, HANG, "context_switch"),
    k("__switch_to", Prefix, HUNG, HANG, "__switch_to_asm"),
    k(
        "cancel_delayed_work",
        Prefix,
        HUNG,
        HANG,
        "cancel_delayed_work_sync",
    ),
    k("flush_", Prefix, HUNG, HANG, "flush_delayed_work"),
    k("rcu_barrier", Contains, HUNG, HANG, "rcu_barrier_tasks"),
    k("freezer", Contains, HUNG, HANG, "__refrigerator_freezer"),
    k("schedule", Exact, SLEEPY, SCHED, "schedule"),
    k("__schedule", Exact, SLEEPY, SCHED, "__schedule"),
    k(
        "schedule_timeout",
        Prefix,
        SLEEPY,
        SCHED,
        "schedule_timeout_uninterruptible",
    ),
    k(
        "schedule_preempt_disabled",
        Exact,
        SLEEPY,
        SCHED,
        "schedule_preempt_disabled",
    ),
    // per kind: allocation wrappers in a kmemleak backtrace
    k("__alloc_skb", Exact, LEAKY, LEAK, "__alloc_skb"),
    k("alloc_skb", Prefix, LEAKY, LEAK, "alloc_skb_with_frags"),
    k(
        "__netdev_alloc_skb",
        Exact,
        LEAKY,
        LEAK,
        "__netdev_alloc_skb",
    ),
    k("kmalloc_reserve", Exact, LEAKY, LEAK, "kmalloc_reserve"),
    k("kmem_", Prefix, LEAKY, LEAK, "kmem_alloc"),
    k("alloc_", Prefix, LEAKY, LEAK, "alloc_inode"),
];

/// Hung-task buckets (syzkaller's lesson): a task blocked in one of these waits for a
/// global lock or grace period, so the lock itself is the key, not the random caller.
pub const HANG_BUCKETS: &[(&str, &str)] = &[
    ("rtnl_lock", "rtnl_lock"),
    ("rtnl_lock_killable", "rtnl_lock"),
    ("synchronize_rcu", "synchronize_rcu"),
    ("synchronize_rcu_expedited", "synchronize_rcu"),
    ("synchronize_srcu", "synchronize_rcu"),
    ("synchronize_net", "synchronize_rcu"),
    ("synchronize_sched", "synchronize_rcu"),
];

/// Whether `rule` matches the normalized function `name`.
pub fn rule_matches(rule: &SkipRule, name: &str) -> bool {
    match rule.how {
        Exact => name == rule.pattern,
        Prefix => name.starts_with(rule.pattern),
        Suffix => name.ends_with(rule.pattern),
        Contains => name.contains(rule.pattern),
    }
}

/// Whether a normalized function is never guilty for a report of `kind`.
pub fn is_skipped(kind: Kind, name: &str) -> bool {
    SKIP_RULES.iter().any(|rule| {
        (rule.kinds.is_empty() || rule.kinds.contains(&kind)) && rule_matches(rule, name)
    })
}

/// The hung-task bucket of a normalized function, if it is one.
pub fn hang_bucket(name: &str) -> Option<&'static str> {
    HANG_BUCKETS
        .iter()
        .find(|(f, _)| *f == name)
        .map(|(_, b)| *b)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // Every skip rule skips its own example for a kind it applies to (one check per entry).
    #[test]
    fn every_rule_skips_its_example() {
        for rule in SKIP_RULES {
            let kind = rule.kinds.first().copied().unwrap_or(Kind::Kasan);
            assert!(
                rule_matches(rule, rule.example),
                "{:?} does not match its example",
                rule.pattern
            );
            assert!(
                is_skipped(kind, rule.example),
                "{:?} example not skipped",
                rule.pattern
            );
            assert!(!rule.why.is_empty());
        }
    }

    // Every rule changes the guilty frame: with its example on top, the next frame is blamed.
    #[test]
    fn every_rule_moves_guilty_frame() {
        for rule in SKIP_RULES {
            let kind = rule.kinds.first().copied().unwrap_or(Kind::Warning);
            let frames = [rule.example, "my_driver_ioctl"];
            let picked = frames.iter().find(|f| !is_skipped(kind, f));
            assert_eq!(picked, Some(&"my_driver_ioctl"), "rule {:?}", rule.pattern);
        }
    }

    // Kind-scoped rules do not apply to other kinds.
    #[test]
    fn scoped_rules_stay_in_scope() {
        assert!(is_skipped(Kind::HungTask, "io_schedule"));
        assert!(!is_skipped(Kind::Kasan, "io_schedule"));
        assert!(is_skipped(Kind::MemoryLeak, "alloc_inode"));
        assert!(!is_skipped(Kind::Kasan, "alloc_inode"));
    }

    // Real driver and subsystem functions that merely resemble skipped ones are kept.
    #[test]
    fn near_misses_are_kept() {
        for name in [
            "stream_open",
            "lock_sock_nested",
            "listen",
            "strparser_recv",
            "panic_handler_x",
            "downgrade_write_x",
            "kfree_rcu_work",
            "copy_process",
            "upgrade_fw",
            "sco_chan_del",
            "test_out_of_bounds_read",
            "module_put",
            "sysrq_handle_crash",
            "smp_call_function_many",
        ] {
            assert!(
                !is_skipped(Kind::Kasan, name),
                "{name} should not be skipped"
            );
        }
    }

    // Hang buckets collapse the global waits.
    #[test]
    fn hang_buckets() {
        assert_eq!(hang_bucket("synchronize_net"), Some("synchronize_rcu"));
        assert_eq!(hang_bucket("rtnl_lock"), Some("rtnl_lock"));
        assert_eq!(hang_bucket("ext4_sync_fs"), None);
    }
}
