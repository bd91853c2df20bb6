"""The comparison report's figures (matplotlib, rendered to PNG bytes): learning curves and
the chip's confusion matrices, the cosine of each learning signal with BP over training,
and the depth study's figure from :mod:`sim.report_depth`.
"""

import io

import numpy as np

from sim import report_depth

__all__ = ["plots"]


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return buf.getvalue()


def plots(data):
    import matplotlib
    import matplotlib.ticker
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = {}
    if "learning" in data:
        for ds in ("digits", "yinyang"):
            fig, ax = plt.subplots(figsize=(6, 3.6))
            for row in data["learning"]["table"]:
                if row["data"] != ds:
                    continue
                style = "-" if row["model"] == "fixed" else "--"
                ax.plot(range(1, len(row["curve"]) + 1), row["curve"], style, marker="o", ms=3,
                        label=f"{row['model']} {row['method']}")
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
            ax.set_ylabel("validation accuracy (%)")
            ax.set_title(f"{ds}: learning curves (mean over seeds)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, ncol=2)
            out[f"curves_{ds}"] = _png(fig)
            chip = next(r for r in data["learning"]["table"]
                        if (r["data"], r["model"], r["method"]) == (ds, "fixed", "opzo"))
            c = np.array(chip["confusion"])
            fig, ax = plt.subplots(figsize=(3.8, 3.4))
            ax.imshow(c, cmap="Blues")
            for (i, j), v in np.ndenumerate(c):
                if v:
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=6,
                            color="white" if v > c.max() / 2 else "black")
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
            ax.set_title(f"{ds}: the chip's model (fixed OPZO)")
            out[f"confusion_{ds}"] = _png(fig)
    if "inside" in data:
        for ds, d in data["inside"].items():
            fig, ax = plt.subplots(figsize=(6, 3.4))
            for layer, s in d["summary"].items():
                ax.plot(s["step"], s["opzo"], "-", label=f"OPZO  M e, layer {int(layer) + 1}")
                ax.plot(s["step"], s["zo"], ":", label=f"plain ZO, layer {int(layer) + 1}")
            ax.axhline(0, color="grey", lw=0.8)
            ax.set_xlabel("training time step")
            ax.set_ylabel("cosine with the BP signal")
            ax.set_title(f"{ds}: how well each estimate points along the true gradient")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
            out[f"inside_{ds}"] = _png(fig)
    out.update(report_depth.plots(data, _png))
    return out

