from sample_agent import utils


def test_execute():
    utils.execute('not-a-need')
