"""Halide's tutorial lesson 15 (generators), its two C++ generators written as
Python generators; run it as lesson 15's usage script runs its generator
binary: `python lesson_15_generators.py -g my_first_generator -o . target=host`."""
import enum

import pipelang as hl

x, y = hl.Var("x"), hl.Var("y")


@hl.generator(name="my_first_generator")
class MyFirstGenerator:
    offset = hl.InputScalar(hl.UInt(8))
    input = hl.InputBuffer(hl.UInt(8), 2)
    brighter = hl.OutputBuffer(hl.UInt(8), 2)

    def generate(self):
        self.brighter[x, y] = self.input[x, y] + self.offset
        self.brighter.vectorize(x, 16).parallel(y)


class Rotation(enum.Enum):
    none = 0
    cw = 1
    ccw = 2


@hl.generator(name="my_second_generator")
class MySecondGenerator:
    parallel = hl.GeneratorParam(True)
    scale = hl.GeneratorParam(1.0)
    rotation = hl.GeneratorParam(Rotation.none)

    offset = hl.InputScalar(hl.UInt(8))
    input = hl.InputBuffer(hl.UInt(8), 2)
    output = hl.OutputBuffer(None, 2)

    def generate(self):
        g = self
        brighter, rotated = hl.Func("brighter"), hl.Func("rotated")
        brighter[x, y] = g.scale * (g.input[x, y] + g.offset)
        if g.rotation is Rotation.none:
            rotated[x, y] = brighter[x, y]
        elif g.rotation is Rotation.cw:
            rotated[x, y] = brighter[y, 100 - x]
        else:
            rotated[x, y] = brighter[100 - y, x]
        g.output[x, y] = hl.cast(g.output.type(), rotated[x, y])
        g.output.vectorize(x, g.natural_vector_size(g.output.type()))
        if g.parallel:
            g.output.parallel(y)
        if g.rotation is not Rotation.none:
            rotated.compute_at(g.output, y).vectorize(x, g.natural_vector_size(rotated.type()))


if __name__ == "__main__":
    hl.main()
