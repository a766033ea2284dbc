"""Image captioning: a CNN encoder and LSTM decoders, with and without soft attention (lecture 9).

* ``encoder``: a small CNN pre-trained as a multi-label classifier, and its feature grid as
  annotation vectors a_1..a_L.
* ``decoder``: ``ShowTell`` (the image initialises the LSTM state; Vinyals et al. 2015) and
  ``ShowAttendTell`` (soft attention over the grid at every word; Xu et al. 2015).
* ``decode``: greedy and beam search for both, with the attention weights.
* ``train``: losses, cached features, and the metrics (attribute accuracy, caption BLEU).
* ``failures``: which slots of the grammar a wrong caption gets wrong, and how often.
* ``plots``: scenes with captions, attention maps on the image, scores, successes and failures.

Data: ``lstm_course.data.scenes``; recipes: ``lstm_course.experiments.captioning``.
"""
