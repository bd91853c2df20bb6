"""Testbench steps shared by the feeder's tests (Amaranth simulator): shuffle the order
memory, and run the feeder for one run while collecting what it sends."""

__all__ = ["shuffle", "feeder_run"]


async def shuffle(ctx, order, n):
    """Shuffle ``order[0:n]`` and wait until the engine is done."""
    ctx.set(order.shuffle, 1)
    ctx.set(order.n, n)
    await ctx.tick()
    ctx.set(order.shuffle, 0)
    await ctx.tick()
    while ctx.get(order.busy):
        await ctx.tick()


async def feeder_run(ctx, feeder, train, count, stall, *, label_ready=None):
    """Start a run (``train``, ``count``) and collect its command words and labels until the
    feeder is idle.  The command stream is ready with probability 0.6 in each cycle (random
    back pressure from ``stall``, a NumPy generator); the label stream with probability
    ``label_ready``, or always when it is None.  Returns ``(words, labels)``."""
    ctx.set(feeder.train, train)
    ctx.set(feeder.count, count)
    ctx.set(feeder.start, 1)
    await ctx.tick()
    ctx.set(feeder.start, 0)
    words, labels = [], []
    ctx.set(feeder.label.ready, 1)
    while True:
        ready = int(stall.random() < 0.6)
        lready = 1 if label_ready is None else int(stall.random() < label_ready)
        ctx.set(feeder.cmd.ready, ready)
        ctx.set(feeder.label.ready, lready)
        await ctx.delay(1e-10)
        if ready and ctx.get(feeder.cmd.valid):
            words.append(ctx.get(feeder.cmd.payload))
        if lready and ctx.get(feeder.label.valid):
            labels.append(ctx.get(feeder.label.payload))
        busy = ctx.get(feeder.busy)
        await ctx.tick()
        if not busy:
            return words, labels
