"""The tools built on the library: the ``chainrule`` command (:mod:`.cli`), the gradient
report (:mod:`.explain`), the graph drawing (:mod:`.viz`), the plots (:mod:`.plot`) and the
image reader (:mod:`.images`)."""
