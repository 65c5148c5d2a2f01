// The lenet model's layers as GET /api/v1/model describes them (weights left out), for the unit tests.
export const LENET_LAYERS = [
  {"name": "input", "kind": "input", "role": "input", "shape": [1, 28, 28], "channelwise": false, "receptive_field": {"size": 1, "jump": 1, "start": 0, "unflatten": null}},
  {"name": "conv1", "kind": "conv", "role": "hidden", "shape": [6, 28, 28], "channelwise": false, "receptive_field": {"size": 5, "jump": 1, "start": -2, "unflatten": null}},
  {"name": "relu1", "kind": "relu", "role": "hidden", "shape": [6, 28, 28], "channelwise": true, "receptive_field": {"size": 5, "jump": 1, "start": -2, "unflatten": null}},
  {"name": "pool1", "kind": "pool", "role": "hidden", "shape": [6, 14, 14], "channelwise": true, "receptive_field": {"size": 6, "jump": 2, "start": -2, "unflatten": null}},
  {"name": "conv2", "kind": "conv", "role": "hidden", "shape": [16, 10, 10], "channelwise": false, "receptive_field": {"size": 14, "jump": 2, "start": -2, "unflatten": null}},
  {"name": "relu2", "kind": "relu", "role": "hidden", "shape": [16, 10, 10], "channelwise": true, "receptive_field": {"size": 14, "jump": 2, "start": -2, "unflatten": null}},
  {"name": "pool2", "kind": "pool", "role": "hidden", "shape": [16, 5, 5], "channelwise": true, "receptive_field": {"size": 16, "jump": 4, "start": -2, "unflatten": null}},
  {"name": "flatten", "kind": "flatten", "role": "hidden", "shape": [400], "channelwise": false, "receptive_field": {"size": 16, "jump": 4, "start": -2, "unflatten": [16, 5, 5]}},
  {"name": "fc1", "kind": "linear", "role": "hidden", "shape": [120], "channelwise": false, "receptive_field": {"size": 28, "jump": 0, "start": 0, "unflatten": null}},
  {"name": "relu3", "kind": "relu", "role": "hidden", "shape": [120], "channelwise": true, "receptive_field": {"size": 28, "jump": 0, "start": 0, "unflatten": null}},
  {"name": "fc2", "kind": "linear", "role": "hidden", "shape": [84], "channelwise": false, "receptive_field": {"size": 28, "jump": 0, "start": 0, "unflatten": null}},
  {"name": "relu4", "kind": "relu", "role": "hidden", "shape": [84], "channelwise": true, "receptive_field": {"size": 28, "jump": 0, "start": 0, "unflatten": null}},
  {"name": "fc3", "kind": "linear", "role": "logits", "shape": [10], "channelwise": false, "receptive_field": {"size": 28, "jump": 0, "start": 0, "unflatten": null}},
  {"name": "softmax", "kind": "softmax", "role": "probabilities", "shape": [10], "channelwise": false, "receptive_field": {"size": 28, "jump": 0, "start": 0, "unflatten": null}},
];

/** Receptive fields of a few lenet units as POST /api/v1/trace reports them (the server's Python geometry). */
export const SERVER_REGIONS = {
  "conv2 3,4,5": [
    { layer: "pool1", box: [5, 4, 9, 8], channels: null }, { layer: "relu1", box: [10, 8, 19, 17], channels: null },
    { layer: "conv1", box: [10, 8, 19, 17], channels: null }, { layer: "input", box: [8, 6, 21, 19], channels: null },
  ],
  "pool2 15,4,4": [
    { layer: "relu2", box: [8, 8, 9, 9], channels: [15] }, { layer: "conv2", box: [8, 8, 9, 9], channels: [15] },
    { layer: "pool1", box: [8, 8, 13, 13], channels: null }, { layer: "relu1", box: [16, 16, 27, 27], channels: null },
    { layer: "conv1", box: [16, 16, 27, 27], channels: null }, { layer: "input", box: [14, 14, 27, 27], channels: null },
  ],
  "flatten 26": [
    { layer: "pool2", box: [1, 0, 1, 0], channels: [1] }, { layer: "relu2", box: [2, 0, 3, 1], channels: [1] },
    { layer: "conv2", box: [2, 0, 3, 1], channels: [1] }, { layer: "pool1", box: [2, 0, 7, 5], channels: null },
    { layer: "relu1", box: [4, 0, 15, 11], channels: null }, { layer: "conv1", box: [4, 0, 15, 11], channels: null },
    { layer: "input", box: [2, 0, 17, 13], channels: null },
  ],
  "relu3 5": [
    { layer: "fc1", box: null, channels: [5] }, { layer: "flatten", box: null, channels: null },
    { layer: "pool2", box: [0, 0, 4, 4], channels: null }, { layer: "relu2", box: [0, 0, 9, 9], channels: null },
    { layer: "conv2", box: [0, 0, 9, 9], channels: null }, { layer: "pool1", box: [0, 0, 13, 13], channels: null },
    { layer: "relu1", box: [0, 0, 27, 27], channels: null }, { layer: "conv1", box: [0, 0, 27, 27], channels: null },
    { layer: "input", box: [0, 0, 27, 27], channels: null },
  ],
  "conv1 0,0,27": [{ layer: "input", box: [25, 0, 27, 2], channels: null }],
  "relu1 2,13,0": [
    { layer: "conv1", box: [0, 13, 0, 13], channels: [2] }, { layer: "input", box: [0, 11, 2, 15], channels: null },
  ],
};
