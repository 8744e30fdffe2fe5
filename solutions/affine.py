"""Solutions: the temporal affine layer y_t = x_t W^T + b, forward and backward."""


def affine_forward(x, weight, bias):
    """x (B, T, E), W (V, E), b (V,) -> y (B, T, V)."""
    return x @ weight.T + bias


def affine_backward(dy, cache):
    """dx = dy W;  dW = sum_{b,t} dy[b,t]^T x[b,t];  db = sum_{b,t} dy[b,t]: the same W at every step."""
    x, weight = cache.x, cache.weight
    dx = dy @ weight  # (B, T, V) @ (V, E) -> (B, T, E)
    dweight = dy.reshape(-1, dy.shape[-1]).T @ x.reshape(-1, x.shape[-1])  # (V, B*T) @ (B*T, E)
    dbias = dy.sum(axis=(0, 1))
    return dx, dweight, dbias
