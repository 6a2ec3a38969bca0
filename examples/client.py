"""A fgclip2-server client in Python (requests): zero-shot labels, one box's labels, and a heatmap PNG.

    python3 examples/client.py IMAGE [URL]        # URL defaults to http://localhost:8080

Prints tab-separated lines: "classify<TAB>label<TAB>probability", "box<TAB>label<TAB>probability",
"heatmap<TAB>file<TAB>min<TAB>max". The test suite runs it against the demo model (ClientExamplesTest).
"""
import base64
import sys

import requests

LABELS = ["a cat", "a dog", "a kitchen", "a person"]


def post(url, path, body):
    response = requests.post(url + path, json=body, timeout=120)
    if not response.ok:
        # errors are RFC 9457 problems: detail says what was wrong, pointer where
        problem = response.json()
        sys.exit(f"{path}: {response.status_code} {problem.get('detail')} {problem.get('pointer', '')}")
    return response


def main():
    image_file = sys.argv[1]
    url = sys.argv[2] if len(sys.argv) > 2 else "http://localhost:8080"
    with open(image_file, "rb") as f:
        image = base64.b64encode(f.read()).decode("ascii")

    # independent sigmoid probabilities: each label on its own, they do not sum to 1
    answer = post(url, "/v1/classify", {"image": image, "labels": LABELS, "topK": len(LABELS)}).json()
    if answer["model"]["demo"]:
        print("note: the demo model is loaded; its scores are meaningless", file=sys.stderr)
    for result in answer["results"]:
        print(f"classify\t{result['label']}\t{result['probability']!r}")

    # a box in original pixels [x1, y1, x2, y2]: a softmax over the labels
    boxes = post(url, "/v1/regions/classify", {"image": image, "boxes": [[0, 0, 200, 200]], "labels": LABELS, "topK": 1}).json()
    best = boxes["results"][0]["labels"][0]
    print(f"box\t{best['label']}\t{best['probability']!r}")

    # where is a phrase: a PNG at the image's size on the full cosine scale
    heatmap = post(url, "/v1/dense/similarity", {"image": image, "texts": ["a cat"], "format": "png", "range": [-1, 1]})
    with open("heatmap.png", "wb") as f:
        f.write(heatmap.content)
    print(f"heatmap\theatmap.png\t{heatmap.headers['Fgclip2-Similarity-Min']}\t{heatmap.headers['Fgclip2-Similarity-Max']}")


if __name__ == "__main__":
    main()
