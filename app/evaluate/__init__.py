"""Evaluate on the person's own work: test sets over a collection, runs of contestants
(local models × quant × load × retrieval settings, remote endpoints) with their figures,
perplexity per quant level, blind review, reports and a suggested routing policy, and the
usage log of everyday replies. No Qt: the faces reach it through `Evaluation`."""
