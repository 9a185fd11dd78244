/* pipelang's HalideRuntime.h: the types and runtime entry points that
 * pipelang's ahead-of-time objects use and export. Binary-compatible with
 * Halide 21's runtime ABI (halide_buffer_t, halide_dimension_t,
 * halide_type_t, halide_filter_metadata_t, halide_error_code_t), so C and
 * C++ written against Halide's generated headers compile unchanged.
 *
 * Every runtime function below is defined weak inside each generated
 * object: define your own (e.g. halide_error) to replace it. */
#ifndef HALIDE_HALIDERUNTIME_H
#define HALIDE_HALIDERUNTIME_H

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
#include <cstring>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#endif

#define HALIDE_VERSION_MAJOR 21
#define HALIDE_VERSION_MINOR 0
#define HALIDE_VERSION_PATCH 0
#define PIPELANG_HALIDE_RUNTIME 1

#ifndef HALIDE_ALWAYS_INLINE
#define HALIDE_ALWAYS_INLINE inline __attribute__((always_inline))
#endif
#ifndef HALIDE_NEVER_INLINE
#define HALIDE_NEVER_INLINE __attribute__((noinline))
#endif
#ifndef HALIDE_MUST_USE_RESULT
#define HALIDE_MUST_USE_RESULT
#endif
#ifndef HALIDE_FUNCTION_ATTRS
#define HALIDE_FUNCTION_ATTRS
#endif
#ifndef HALIDE_ATTRIBUTE_ALIGN
#define HALIDE_ATTRIBUTE_ALIGN(x) __attribute__((aligned(x)))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- types */

typedef enum halide_type_code_t
#if __cplusplus >= 201103L
    : uint8_t
#endif
{
    halide_type_int = 0,
    halide_type_uint = 1,
    halide_type_float = 2,
    halide_type_handle = 3,
    halide_type_bfloat = 4
} halide_type_code_t;

/* 4 bytes: code, bits, lanes. */
struct halide_type_t {
#if __cplusplus >= 201103L
    halide_type_code_t code;
#else
    uint8_t code;
#endif
    uint8_t bits;
    uint16_t lanes;

#ifdef __cplusplus
    HALIDE_ALWAYS_INLINE constexpr halide_type_t(halide_type_code_t code, uint8_t bits, uint16_t lanes = 1)
        : code(code), bits(bits), lanes(lanes) {}
    HALIDE_ALWAYS_INLINE constexpr halide_type_t() : code((halide_type_code_t)0), bits(0), lanes(0) {}
    HALIDE_ALWAYS_INLINE constexpr halide_type_t with_lanes(uint16_t new_lanes) const {
        return halide_type_t((halide_type_code_t)code, bits, new_lanes);
    }
    HALIDE_ALWAYS_INLINE constexpr halide_type_t element_of() const { return with_lanes(1); }
    HALIDE_ALWAYS_INLINE constexpr bool operator==(const halide_type_t &o) const {
        return code == o.code && bits == o.bits && lanes == o.lanes;
    }
    HALIDE_ALWAYS_INLINE constexpr bool operator!=(const halide_type_t &o) const { return !(*this == o); }
    HALIDE_ALWAYS_INLINE constexpr int bytes() const { return (bits + 7) / 8; }
#endif
};

/* 16 bytes: the min, extent and stride (in elements) of one dimension. */
typedef struct halide_dimension_t {
    int32_t min, extent, stride;
    uint32_t flags;
#ifdef __cplusplus
    HALIDE_ALWAYS_INLINE halide_dimension_t() : min(0), extent(0), stride(0), flags(0) {}
    HALIDE_ALWAYS_INLINE halide_dimension_t(int32_t m, int32_t e, int32_t s, uint32_t f = 0)
        : min(m), extent(e), stride(s), flags(f) {}
    HALIDE_ALWAYS_INLINE bool operator==(const halide_dimension_t &o) const {
        return min == o.min && extent == o.extent && stride == o.stride && flags == o.flags;
    }
    HALIDE_ALWAYS_INLINE bool operator!=(const halide_dimension_t &o) const { return !(*this == o); }
#endif
} halide_dimension_t;

typedef enum { halide_buffer_flag_host_dirty = 1, halide_buffer_flag_device_dirty = 2 } halide_buffer_flags;

struct halide_device_interface_t;

/* 56 bytes on 64-bit targets; dim[0] is the innermost dimension. */
typedef struct halide_buffer_t {
    uint64_t device;
    const struct halide_device_interface_t *device_interface;
    uint8_t *host;
    uint64_t flags;
    struct halide_type_t type;
    int32_t dimensions;
    halide_dimension_t *dim;
    void *padding;
} halide_buffer_t;

/* --------------------------------------------------------- error codes */

enum halide_error_code_t {
    halide_error_code_success = 0,
    halide_error_code_generic_error = -1,
    halide_error_code_explicit_bounds_too_small = -2,
    halide_error_code_bad_type = -3,
    halide_error_code_access_out_of_bounds = -4,
    halide_error_code_buffer_allocation_too_large = -5,
    halide_error_code_buffer_extents_too_large = -6,
    halide_error_code_constraints_make_required_region_smaller = -7,
    halide_error_code_constraint_violated = -8,
    halide_error_code_param_too_small = -9,
    halide_error_code_param_too_large = -10,
    halide_error_code_out_of_memory = -11,
    halide_error_code_buffer_argument_is_null = -12,
    halide_error_code_debug_to_file_failed = -13,
    halide_error_code_copy_to_host_failed = -14,
    halide_error_code_copy_to_device_failed = -15,
    halide_error_code_device_malloc_failed = -16,
    halide_error_code_device_sync_failed = -17,
    halide_error_code_device_free_failed = -18,
    halide_error_code_no_device_interface = -19,
    halide_error_code_unimplemented = -20,
    halide_error_code_symbol_not_found = -21,
    halide_error_code_internal_error = -22,
    halide_error_code_device_run_failed = -23,
    halide_error_code_unaligned_host_ptr = -24,
    halide_error_code_bad_fold = -25,
    halide_error_code_fold_factor_too_small = -26,
    halide_error_code_requirement_failed = -27,
    halide_error_code_buffer_extents_negative = -28,
    halide_error_code_gpu_device_error = -29,
    halide_error_code_trace_failed = -30,
    halide_error_code_specialize_fail = -31,
    halide_error_code_device_wrap_native_failed = -32,
    halide_error_code_device_detach_native_failed = -33,
    halide_error_code_host_is_null = -34,
    halide_error_code_bad_extern_fold = -35,
    halide_error_code_device_interface_no_device = -36,
    halide_error_code_host_and_device_dirty = -37,
    halide_error_code_buffer_is_null = -38,
    halide_error_code_device_buffer_copy_failed = -39,
    halide_error_code_device_crop_unsupported = -40,
    halide_error_code_device_crop_failed = -41,
    halide_error_code_incompatible_device_interface = -42,
    halide_error_code_bad_dimensions = -43,
    halide_error_code_device_dirty_with_no_device_support = -44,
    halide_error_code_storage_bound_too_small = -45,
    halide_error_code_split_factor_not_positive = -46,
    halide_error_code_vscale_invalid = -47,
    halide_error_code_cannot_profile_pipeline = -48
};

/* ------------------------------------------------------------ metadata */

struct halide_scalar_value_t {
    union {
        bool b;
        int8_t i8;
        int16_t i16;
        int32_t i32;
        int64_t i64;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        float f32;
        double f64;
        void *handle;
    } u;
};

enum halide_argument_kind_t {
    halide_argument_kind_input_scalar = 0,
    halide_argument_kind_input_buffer = 1,
    halide_argument_kind_output_buffer = 2
};

struct halide_filter_argument_t {
    const char *name;
    int32_t kind;       /* a halide_argument_kind_t */
    int32_t dimensions; /* 0 for scalars */
    struct halide_type_t type;
    const struct halide_scalar_value_t *scalar_def, *scalar_min, *scalar_max, *scalar_estimate;
    int64_t const *const *buffer_estimates;
};

struct halide_filter_metadata_t {
#ifdef __cplusplus
    static const int32_t VERSION = 1;
#endif
    int32_t version;
    int32_t num_arguments;
    const struct halide_filter_argument_t *arguments;
    const char *target;
    const char *name;
};

/* -------------------------------------------- runtime (weak, overridable) */

/* Print a message (default: write to stdout). */
extern void halide_print(void *user_context, const char *);
extern void halide_default_print(void *user_context, const char *);
typedef void (*halide_print_t)(void *, const char *);
extern halide_print_t halide_set_custom_print(halide_print_t print);

/* Called with a message when a pipeline fails; the pipeline then returns a
 * halide_error_code_t. The default prints "Error: <message>" through
 * halide_print and returns (Halide's own default also aborts). */
extern void halide_error(void *user_context, const char *);
extern void halide_default_error(void *user_context, const char *);
typedef void (*halide_error_handler_t)(void *, const char *);
extern halide_error_handler_t halide_set_error_handler(halide_error_handler_t handler);

/* 64-byte aligned allocation. */
extern void *halide_malloc(void *user_context, size_t x);
extern void halide_free(void *user_context, void *ptr);

/* Threads used by parallel loops (the caller included); 0 means the default
 * (HL_NUM_THREADS, else the number of CPUs). Returns the previous value. */
extern int halide_set_num_threads(int n);

#ifdef __cplusplus
}  /* extern "C" */

template<typename T>
HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of();
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<float>() { return halide_type_t(halide_type_float, 32); }
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<double>() { return halide_type_t(halide_type_float, 64); }
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<bool>() { return halide_type_t(halide_type_uint, 1); }
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<uint8_t>() { return halide_type_t(halide_type_uint, 8); }
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<uint16_t>() { return halide_type_t(halide_type_uint, 16); }
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<uint32_t>() { return halide_type_t(halide_type_uint, 32); }
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<uint64_t>() { return halide_type_t(halide_type_uint, 64); }
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<int8_t>() { return halide_type_t(halide_type_int, 8); }
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<int16_t>() { return halide_type_t(halide_type_int, 16); }
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<int32_t>() { return halide_type_t(halide_type_int, 32); }
template<> HALIDE_ALWAYS_INLINE constexpr halide_type_t halide_type_of<int64_t>() { return halide_type_t(halide_type_int, 64); }
#endif

#endif  /* HALIDE_HALIDERUNTIME_H */
