"""Time series for next-step prediction: random sine waves and a stable autoregressive process.

Both give x (T, 1) and y (T, 1) with y[t] = x[t + 1]: the model reads the series up to t and
predicts the next value. Each has a known best possible answer, so a trained model can be
compared with the truth rather than with another model.
"""

import numpy as np
import torch

from lstm_course.data._checks import check_float, check_int, check_range, check_seed
from lstm_course.data.samples import SampleDataset


def _next_step_dataset(series):
    """(N, T + 1) float64 series -> SampleDataset arguments with x = s[:-1], y = s[1:]."""
    s = torch.from_numpy(series.astype(np.float32)).unsqueeze(-1)  # (N, T + 1, 1)
    N, T = s.shape[0], s.shape[1] - 1
    return dict(
        x=s[:, :-1].contiguous(),
        y=s[:, 1:].contiguous(),
        mask=torch.ones(N, T, dtype=torch.bool),
        length=torch.full((N,), T, dtype=torch.int64),
    )


class SineWaves(SampleDataset):
    """Sine waves with random frequency, phase and amplitude: predict the next value.

    s_t = A sin(2 pi f t + phi),  t = 0..T,  observed as s_t + noise (i.i.d. Gaussian).

    A single value does not say where the wave is going (rising or falling, how fast): the
    model has to infer frequency and phase from the past and carry them in its state. Without
    noise two past values suffice, since s_{t+1} = 2 cos(2 pi f) s_t - s_{t-1}; with noise the
    best one-step MSE is at least noise_std**2, because the next value's noise is unknowable.

    Each sample is ``Sample(x, y, mask, length)``:
        x: (T, 1) float32, the observed series at steps 0..T-1, in about [-A - 4 noise_std,
            A + 4 noise_std].
        y: (T, 1) float32, the same series at steps 1..T (x shifted by one).
        mask: (T,) bool, all True.  length: () int64, T.

    Args:
        n_samples: N.  T: steps per sample, >= 1.
        seed: seeds the dataset's own generator.
        freq_range: (low, high) frequency f in cycles per step, uniform, within (0, 0.5)
            (0.5 is the Nyquist limit: faster waves alias to slower ones).
        amplitude_range: (low, high) amplitude A, uniform, > 0.
        noise_std: standard deviation of the observation noise, >= 0.
    Attributes:
        freq, phase, amplitude: (N,) float64, each sample's f, phi in [0, 2 pi) and A.
    """

    def __init__(
        self,
        n_samples,
        T,
        seed=0,
        freq_range=(0.01, 0.1),
        amplitude_range=(0.5, 1.0),
        noise_std=0.0,
    ):
        N = check_int("n_samples", n_samples, minimum=1)
        T = check_int("T", T, minimum=1)
        f_lo, f_hi = check_range("freq_range", freq_range, 0.0, 0.5, strict=True)
        a_lo, a_hi = check_range("amplitude_range", amplitude_range, 0.0, None, strict=True)
        self.noise_std = check_float("noise_std", noise_std, minimum=0.0)
        rng = np.random.default_rng(check_seed(seed))
        freq = rng.uniform(f_lo, f_hi, size=N)
        phase = rng.uniform(0.0, 2 * np.pi, size=N)
        amplitude = rng.uniform(a_lo, a_hi, size=N)
        t = np.arange(T + 1)
        series = amplitude[:, None] * np.sin(2 * np.pi * freq[:, None] * t + phase[:, None])
        series += self.noise_std * rng.standard_normal(series.shape)  # (N, T + 1)
        super().__init__(**_next_step_dataset(series))
        self.freq = torch.from_numpy(freq)
        self.phase = torch.from_numpy(phase)
        self.amplitude = torch.from_numpy(amplitude)


def ar_optimal_mse(noise_std):
    """The best possible one-step MSE on an AR(p) process: the noise variance noise_std**2.

    Knowing the coefficients and the last p values, the prediction sum_k a_k x_{t+1-k} misses
    only the new noise e_{t+1}, which nothing in the past can predict. It is the baseline a
    trained model should approach (and cannot beat, except by chance on a finite sample).
    """
    return check_float("noise_std", noise_std, minimum=0.0) ** 2


class ARProcess(SampleDataset):
    """A stable autoregressive process AR(p): predict the next value.

    x_t = a_1 x_{t-1} + ... + a_p x_{t-p} + e_t,   e_t ~ N(0, noise_std**2) i.i.d.

    The optimal one-step predictor is linear in the last p values and its MSE is exactly the
    noise variance (``ar_optimal_mse``): a baseline with a known floor, to see whether a
    recurrent model has found all the structure there is. Stable means every root of
    z^p - a_1 z^(p-1) - ... - a_p lies inside the unit circle (else the series explodes);
    ``burn_in`` steps are simulated and dropped, so every sample starts from the stationary
    distribution rather than from zeros.

    Each sample is ``Sample(x, y, mask, length)``:
        x: (T, 1) float32, the series at steps 0..T-1 (zero mean; the scale follows from the
            coefficients and noise_std).
        y: (T, 1) float32, the series at steps 1..T (x shifted by one).
        mask: (T,) bool, all True.  length: () int64, T.

    Args:
        n_samples: N.  T: steps per sample, >= 1.
        coeffs: (a_1, ..., a_p), p >= 1, stable.
        noise_std: standard deviation of e_t, > 0.
        seed: seeds the dataset's own generator.
        burn_in: steps simulated before the kept ones, >= 0.
    Attributes:
        coeffs: (p,) float64 tensor.  optimal_mse: float, noise_std**2.
    """

    def __init__(self, n_samples, T, coeffs=(0.6, -0.3), noise_std=0.1, seed=0, burn_in=100):
        N = check_int("n_samples", n_samples, minimum=1)
        T = check_int("T", T, minimum=1)
        burn_in = check_int("burn_in", burn_in, minimum=0)
        noise_std = check_float("noise_std", noise_std, minimum=0.0, strict=True)
        a = np.asarray(coeffs, dtype=np.float64)
        if a.ndim != 1 or a.size == 0:
            raise ValueError(f"coeffs must be a non-empty sequence (a_1, ..., a_p), got {coeffs}")
        radius = np.abs(np.roots(np.concatenate([[1.0], -a]))).max()
        if radius >= 1.0:
            raise ValueError(
                f"coeffs must give a stable AR process (all roots of z^p - a_1 z^(p-1) - ... "
                f"inside the unit circle), got {tuple(a)} with a root of modulus {radius:.3f}"
            )
        p = a.size
        rng = np.random.default_rng(check_seed(seed))
        noise = noise_std * rng.standard_normal((N, p + burn_in + T + 1))
        series = np.zeros_like(noise)  # the first p values start at zero; burn_in forgets them
        for t in range(p, series.shape[1]):
            # series[:, t-p:t][:, ::-1] is (x_{t-1}, ..., x_{t-p}), matching (a_1, ..., a_p)
            series[:, t] = series[:, t - p : t][:, ::-1] @ a + noise[:, t]
        super().__init__(**_next_step_dataset(series[:, p + burn_in :]))
        self.coeffs = torch.from_numpy(a)
        self.noise_std = noise_std
        self.optimal_mse = ar_optimal_mse(noise_std)

    def predict_next(self, x):
        """The optimal one-step prediction sum_k a_k x_{t+1-k}, for every step of x.

        Args:
            x: (T, ...) a series, time first (a sample's x (T, 1), or a batch (T, B, 1)).
        Returns:
            (T, ...) float tensor, the prediction of x[t + 1] (i.e. of y[t]) from x[:t + 1].
            The first p - 1 steps lack history; the missing values count as 0 there, so only
            steps t >= p - 1 reach ``optimal_mse``.
        """
        x = torch.as_tensor(x)
        pred = torch.zeros_like(x, dtype=torch.float64)
        for k, a_k in enumerate(self.coeffs.tolist(), start=1):
            n = max(x.shape[0] - k + 1, 0)  # steps that have a value k - 1 steps back
            pred[k - 1 :] += a_k * x[:n].double()  # a_k * x_{t+1-k}
        return pred.to(x.dtype) if x.dtype.is_floating_point else pred
