"""pipelang's intermediate representation: types, nodes, traversal, printing."""
from pipelang.ir.types import Bool, Float, Handle, Int, Type, TypeCode, UInt, type_of_dtype
from pipelang.ir.nodes import *  # noqa: F401,F403  (the node classes are the IR's vocabulary)
from pipelang.ir.visitor import (IRMutator, IRVisitor, contains, free_symbols, substitute, unbound_symbols,
                                  uses_symbol)
from pipelang.ir.printer import to_string
