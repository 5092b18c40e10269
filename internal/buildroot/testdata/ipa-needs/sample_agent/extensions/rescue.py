from .. import utils


def finalize():
    utils.execute('sync')
