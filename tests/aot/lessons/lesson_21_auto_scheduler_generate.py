"""Halide's tutorial lesson 21 (the autoscheduler), its C++ generator as a
Python generator. Build both libraries as lesson 21's CMake rules do:

    python lesson_21_auto_scheduler_generate.py -g auto_schedule_gen -f auto_schedule_false \\
        -o . target=host
    python lesson_21_auto_scheduler_generate.py -g auto_schedule_gen -f auto_schedule_true \\
        -o . target=host autoscheduler=Mullapudi2016 autoscheduler.parallelism=32

(Halide's lesson also passes Mullapudi2016's last_level_cache_size and balance, which
pipelang's autoscheduler does not take.)

then link lesson_21_auto_scheduler_run.c against both.
"""
import pipelang as hl

x, y = hl.Var("x"), hl.Var("y")


def sum3x3(f, x, y):
    return (f[x - 1, y - 1] + f[x - 1, y] + f[x - 1, y + 1] + f[x, y - 1] + f[x, y]
            + f[x, y + 1] + f[x + 1, y - 1] + f[x + 1, y] + f[x + 1, y + 1])


@hl.generator(name="auto_schedule_gen")
class AutoScheduled:
    input = hl.InputBuffer(hl.Float(32), 3)
    factor = hl.InputScalar(hl.Float(32))
    output1 = hl.OutputBuffer(hl.Float(32), 2)
    output2 = hl.OutputBuffer(hl.Float(32), 2)

    def generate(self):
        g = self
        gray, Iy, Ix, Ixx, Iyy, Ixy, Sxx, Syy, Sxy, det, trace, harris = hl.funcs(
            "gray Iy Ix Ixx Iyy Ixy Sxx Syy Sxy det trace harris")
        in_b = hl.BoundaryConditions.repeat_edge(g.input)
        gray[x, y] = hl.f32(0.299) * in_b[x, y, 0] + hl.f32(0.587) * in_b[x, y, 1] + hl.f32(0.114) * in_b[x, y, 2]
        Iy[x, y] = (gray[x - 1, y - 1] * (hl.f32(-1.0 / 12)) + gray[x - 1, y + 1] * (hl.f32(1.0 / 12))
                    + gray[x, y - 1] * (hl.f32(-2.0 / 12)) + gray[x, y + 1] * (hl.f32(2.0 / 12))
                    + gray[x + 1, y - 1] * (hl.f32(-1.0 / 12)) + gray[x + 1, y + 1] * (hl.f32(1.0 / 12)))
        Ix[x, y] = (gray[x - 1, y - 1] * (hl.f32(-1.0 / 12)) + gray[x + 1, y - 1] * (hl.f32(1.0 / 12))
                    + gray[x - 1, y] * (hl.f32(-2.0 / 12)) + gray[x + 1, y] * (hl.f32(2.0 / 12))
                    + gray[x - 1, y + 1] * (hl.f32(-1.0 / 12)) + gray[x + 1, y + 1] * (hl.f32(1.0 / 12)))
        Ixx[x, y] = Ix[x, y] * Ix[x, y]
        Iyy[x, y] = Iy[x, y] * Iy[x, y]
        Ixy[x, y] = Ix[x, y] * Iy[x, y]
        Sxx[x, y] = sum3x3(Ixx, x, y)
        Syy[x, y] = sum3x3(Iyy, x, y)
        Sxy[x, y] = sum3x3(Ixy, x, y)
        det[x, y] = Sxx[x, y] * Syy[x, y] - Sxy[x, y] * Sxy[x, y]
        trace[x, y] = Sxx[x, y] + Syy[x, y]
        harris[x, y] = det[x, y] - hl.f32(0.04) * trace[x, y] * trace[x, y]
        g.output1[x, y] = harris[x, y]
        g.output2[x, y] = g.factor * harris[x, y]

        # Lesson 21's schedule() step (Python generators have only generate()).
        if g.using_autoscheduler():
            g.input.set_estimates([(0, 1024), (0, 1024), (0, 3)])
            g.factor.set_estimate(2.0)
            g.output1.set_estimates([(0, 1024), (0, 1024)])
            g.output2.set_estimates([(0, 1024), (0, 1024)])
        else:
            gray.compute_root()
            Iy.compute_root()
            Ix.compute_root()


if __name__ == "__main__":
    hl.main()
